// The batched UDP loop (native/udp-batch.c, an N-API addon): recvmmsg and
// sendmmsg on a socket the addon opens and binds itself, one call into
// JavaScript per batch instead of per packet. The addon is prebuilt for
// linux-x64 and linux-arm64 (prebuilds/) and loaded with node-gyp-build, which
// also finds a build/ made at install time (`npm install` runs node-gyp-build
// where no prebuild fits and a compiler exists). Nothing is compiled at run
// time. Without the addon, or with MERIDIAN_DNS_NATIVE=0, the dgram loop serves.
import { lookup } from 'node:dns/promises';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIp } from '../core/ip.js';
import type { Logger } from '../log.js';
import { newTraffic, type Traffic } from './drain.js';
import type { DnsEngine, Peer } from './handler.js';

interface Addon {
  open(
    address: string,
    port: number,
    workers: number,
    input: Buffer,
    output: Buffer,
    meta: Buffer,
    onBatch: (n: number) => void,
  ): unknown;
  port(handle: unknown): number;
  close(handle: unknown): void;
  batch: number;
  slot: number;
}

/** The package root (src/dns or dist/dns, two levels up): where prebuilds/ and build/ are. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type AddonState = { addon: Addon; why: string } | { addon: null; why: string };

let state: AddonState | undefined;

/** The addon and why it is (or is not) used; looked up once per process. */
export function loadAddon(): AddonState {
  if (state) return state;
  if (process.env.MERIDIAN_DNS_NATIVE === '0') {
    state = { addon: null, why: 'MERIDIAN_DNS_NATIVE=0' };
    return state;
  }
  if (process.platform !== 'linux') {
    state = { addon: null, why: `recvmmsg/sendmmsg are Linux only (this is ${process.platform})` };
    return state;
  }
  try {
    const require = createRequire(import.meta.url);
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    const file = nodeGypBuild.path(PACKAGE_ROOT);
    state = { addon: require(file) as Addon, why: `addon ${file.slice(PACKAGE_ROOT.length + 1)}` };
  } catch (e) {
    const first = (e as Error).message.split('\n')[0];
    state = { addon: null, why: `addon not loaded: ${first}` };
  }
  return state;
}

export interface BatchedSocket {
  port: number;
  close(): void;
}

/**
 * Opens and binds a UDP socket served by the addon, or returns `why` not when the addon is not
 * there. `workers` > 1: that many processes bind the same address (SO_REUSEPORT) and the kernel
 * spreads queries over them at random. Throws the bind error (EADDRINUSE, EACCES) as dgram would.
 */
export async function openBatched(
  engine: DnsEngine,
  host: string,
  port: number,
  workers: number,
  log: Logger,
  traffic: Traffic = newTraffic(),
): Promise<BatchedSocket | { why: string }> {
  const { addon, why } = loadAddon();
  if (!addon) return { why };
  // As dgram does: a name is looked up once, IPv4 unless it is an IPv6 literal.
  const address = isIP(host) ? host : (await lookup(host, { family: 4 })).address;
  const { batch, slot } = addon;
  const input = Buffer.alloc(batch * slot);
  const output = Buffer.alloc(batch * slot);
  const metaBytes = Buffer.alloc(batch * 8 * 4);
  const meta = new Int32Array(metaBytes.buffer, metaBytes.byteOffset, batch * 8);
  const peer: Peer = { address: '', port: 0, transport: 'udp' };
  // A resolver sends many queries in a row: its IPv4 text is made once, not per query.
  let lastV4 = 0;
  let lastV4Text = '';
  const onBatch = (n: number) => {
    traffic.received += n;
    for (let i = 0; i < n; i++) {
      const m = i * 8;
      const a = (m + 4) * 4;
      peer.port = meta[m + 3];
      if (meta[m + 2] === 4) {
        if (meta[m + 4] !== lastV4 || lastV4Text === '') {
          lastV4 = meta[m + 4];
          lastV4Text = `${metaBytes[a]}.${metaBytes[a + 1]}.${metaBytes[a + 2]}.${metaBytes[a + 3]}`;
        }
        peer.address = lastV4Text;
      } else {
        peer.address = formatIp({ family: 6, bytes: metaBytes.subarray(a, a + 16) });
      }
      meta[m + 1] = 0;
      const at = i * slot;
      try {
        // Answers never exceed dns.maxUdpPayload (at most 4096, the slot size).
        const n = engine.answerInto(input, at, at + meta[m], peer, output, at, slot);
        if (n > 0) {
          meta[m + 1] = n;
          traffic.answered++;
        }
      } catch (e) {
        log.error({ err: (e as Error).message, peer: peer.address }, 'query failed');
      }
    }
  };
  const handle = addon.open(address, port, workers, input, output, metaBytes, onBatch);
  return { port: addon.port(handle), close: () => addon.close(handle) };
}
