// Control's memory stays bounded under followers that never read and requests
// for assets that do not exist. Real sockets against a real control plane.
//
// The bound: control's heap (V8 heap plus ArrayBuffers, after a full GC) may
// grow by at most 64 MiB over its warmed-up baseline. What control may keep is
// far smaller: per follower one pending snapshot (a string shared by all
// followers) and Node's 16 KiB writable buffer, and an asset cache of at most
// ASSET_CACHE_MAX files that exist. 64 MiB is room for V8's own growth (code,
// inline caches, SQLite statement objects) so the test does not depend on the
// machine. The code before these caps kept every snapshot for every stalled
// follower and every missed path: it passed the bound after 5 000 changes
// (+69 MiB), and, with the stream fixed alone, after 70 000 asset paths (+74 MiB).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Pool } from 'undici';
import { followerOf, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const BOUND = 64 * MiB;
const STALLED = 50;
const CHANGES = 10_000;
const ASSET_PATHS = 100_000;
const PARALLEL = 8;

function heap(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Connects, asks for the snapshot stream, and never reads a byte of the answer. */
function stalledFollower(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      // Paused before the first read: Node never pulls from the kernel buffer, which fills and stays full.
      socket.pause();
      socket.write(
        `GET /v1/snapshots/stream HTTP/1.1\r\nhost: ${hostname}\r\naccept: text/event-stream\r\nauthorization: Bearer ${TOKENS.agent}\r\n\r\n`,
      );
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

test('50 stalled followers, 10k snapshots and 100k missing asset paths keep control within a fixed heap', async (t) => {
  // No stall timeout during the test: coalescing alone must bound memory; dropping is tested elsewhere.
  const control = await startTestControl({}, { streamLimits: { stallTimeoutMs: 3_600_000 } });
  const followers: Socket[] = [];
  const source = followerOf(control);
  t.after(async () => {
    for (const s of followers) s.destroy();
    await source.close();
    await control.close();
  });
  await source.start();
  for (let i = 0; i < STALLED; i++) followers.push(await stalledFollower(control.url));
  await waitFor(() => control.context.stream.size === STALLED + 1, 10_000);

  const change = (i: number) =>
    control.context.keeper.change((draft) => {
      draft.snapshot.regions[0].dial = i % 101;
      return [];
    });
  // Warm up (JIT, statement caches, the first stream frames) before the baseline.
  for (let i = 0; i < 200; i++) await change(i);
  const pool = new Pool(control.url, { connections: PARALLEL });
  t.after(() => pool.close());
  const get = async (path: string) => {
    const res = await pool.request({ method: 'GET', path });
    await res.body.dump();
    return res.statusCode;
  };
  for (let i = 0; i < 200; i++) await get(`/assets/warm-${i}.js`);
  const base = heap();
  const over = (what: string, at: number) => {
    const grown = heap() - base;
    if (grown > BOUND)
      assert.fail(`heap grew ${(grown / MiB).toFixed(1)} MiB (bound ${BOUND / MiB} MiB) after ${at} ${what}`);
    return grown;
  };

  for (let i = 1; i <= CHANGES; i++) {
    await change(i);
    if (i % 1000 === 0) over('snapshot changes', i);
  }
  const afterChanges = over('snapshot changes', CHANGES);
  t.diagnostic(
    `after ${CHANGES} changes with ${STALLED} stalled followers: +${(afterChanges / MiB).toFixed(1)} MiB`,
  );

  // Distinct paths of ~1 KB each: a cache that kept misses would hold ~100 MB of keys.
  // Over real sockets: fastify's inject() itself retains ~10 KB per call, which would swamp the measure.
  const pad = 'x'.repeat(1000);
  for (let done = 0; done < ASSET_PATHS; done += 10_000) {
    await Promise.all(
      Array.from({ length: PARALLEL }, async (_, lane) => {
        for (let i = done + lane; i < done + 10_000; i += PARALLEL) {
          const status = await get(`/assets/${pad}-${i}.js`);
          if (status !== 404) assert.fail(`asset ${i}: ${status}`);
        }
      }),
    );
    over('missing asset paths', done + 10_000);
  }
  const afterAssets = over('missing asset paths', ASSET_PATHS);
  t.diagnostic(`after ${ASSET_PATHS} missing asset paths: +${(afterAssets / MiB).toFixed(1)} MiB`);

  // The followers really were backed up (else this proved nothing), and were kept, not dropped.
  const metrics = await (await fetch(new URL('/metrics', control.url))).text();
  const coalesced = Number(/^meridian_control_stream_coalesced_total (\d+)/m.exec(metrics)?.[1] ?? 0);
  assert.ok(coalesced > 0, 'stalled followers had snapshots coalesced');
  assert.equal(control.context.stream.size, STALLED + 1);
  // A follower that reads is not held back by the stalled ones.
  const last = control.context.keeper.snapshot().version;
  await waitFor(() => source.current().version === last, 10_000);
});
