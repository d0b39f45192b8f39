// The batched UDP loop (native/udp-batch.c): recvmmsg/sendmmsg and one call
// into JavaScript per batch instead of per packet. Optional: without a C
// compiler, or with MERIDIAN_DNS_NATIVE=0, the plain dgram loop serves.
import { spawnSync } from 'node:child_process';
import type { Socket as UdpSocket } from 'node:dgram';
import { existsSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIp } from '../core/ip.js';
import type { Logger } from '../log.js';
import type { DnsEngine, Peer } from './handler.js';

interface Addon {
  attach(fd: number, input: Buffer, output: Buffer, meta: Buffer, onBatch: (n: number) => void): unknown;
  close(handle: unknown): void;
  batch: number;
  slot: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, 'native', 'udp-batch.c');
const BUILT = join(here, 'native', 'udp-batch.node');
const HEADERS = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'];

/** Compiles the addon next to its source when it is missing or older; returns an error text or null. */
export function buildAddon(): string | null {
  if (existsSync(BUILT) && existsSync(SOURCE) && statSync(BUILT).mtimeMs >= statSync(SOURCE).mtimeMs)
    return null;
  const include = HEADERS.find((d) => existsSync(join(d, 'node_api.h')));
  if (!include) return 'node_api.h not found (install the Node.js headers)';
  // Build beside, then rename: several workers may build at once.
  const temp = `${BUILT}.${process.pid}.tmp`;
  const r = spawnSync(
    'cc',
    ['-O2', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=udp_batch', `-I${include}`, '-o', temp, SOURCE],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.error) return `cc: ${r.error.message}`;
  if (r.status !== 0) return `cc failed: ${r.stderr.trim()}`;
  renameSync(temp, BUILT);
  return null;
}

let loaded: Addon | null | undefined;

/** The addon, built on first use when its source is here and a C compiler is; null otherwise (logged). */
export function loadAddon(log?: Logger): Addon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.MERIDIAN_DNS_NATIVE === '0') return null;
  if (existsSync(SOURCE)) {
    const problem = buildAddon();
    if (problem) log?.warn({ problem }, 'batched UDP addon not built; using the dgram loop');
  }
  if (!existsSync(BUILT)) return null;
  try {
    loaded = createRequire(import.meta.url)(BUILT) as Addon;
  } catch (e) {
    log?.warn({ err: (e as Error).message }, 'batched UDP addon does not load; using the dgram loop');
  }
  return loaded;
}

interface UdpHandle {
  fd: number;
  recvStop(): number;
}

/** The libuv handle under a dgram socket, without the deprecated `_handle` getter. */
function handleOf(socket: UdpSocket): UdpHandle | null {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym ? (socket as unknown as Record<symbol, { handle?: UdpHandle }>)[sym] : undefined;
  return state?.handle && typeof state.handle.fd === 'number' && state.handle.fd >= 0 ? state.handle : null;
}

/** Takes over receiving on a bound socket; returns the detach function, or null when it cannot. */
export function attachBatched(socket: UdpSocket, engine: DnsEngine, log: Logger): (() => void) | null {
  const addon = loadAddon(log);
  const handle = addon ? handleOf(socket) : null;
  if (!addon || !handle) return null;
  const { batch, slot } = addon;
  const input = Buffer.alloc(batch * slot);
  const output = Buffer.alloc(batch * slot);
  const metaBytes = Buffer.alloc(batch * 8 * 4);
  const meta = new Int32Array(metaBytes.buffer, metaBytes.byteOffset, batch * 8);
  const peer: Peer = { address: '', port: 0, transport: 'udp' };
  const onBatch = (n: number) => {
    for (let i = 0; i < n; i++) {
      const m = i * 8;
      const a = (m + 4) * 4;
      peer.port = meta[m + 3];
      peer.address =
        meta[m + 2] === 4
          ? `${metaBytes[a]}.${metaBytes[a + 1]}.${metaBytes[a + 2]}.${metaBytes[a + 3]}`
          : formatIp({ family: 6, bytes: metaBytes.subarray(a, a + 16) });
      let out: Buffer | null = null;
      try {
        out = engine.handleQuery(input.subarray(i * slot, i * slot + meta[m]), peer);
      } catch (e) {
        log.error({ err: (e as Error).message, peer: peer.address }, 'query failed');
      }
      // Answers never exceed dns.maxUdpPayload (at most 4096, the slot size).
      meta[m + 1] = 0;
      if (out === null || out.length > slot) continue;
      out.copy(output, i * slot);
      meta[m + 1] = out.length;
    }
  };
  handle.recvStop();
  const native = addon.attach(handle.fd, input, output, metaBytes, onBatch);
  return () => addon.close(native);
}
