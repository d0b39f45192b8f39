// Resync (anti-entropy by key ranges) between two real Redis: it copies what
// the target lacks or holds older (tombstones and expiries included), leaves
// other data alone, finds nothing to do the second time, and never undoes a
// newer write made in the target while it runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { converged, diffRegions } from '../src/replication/converge.js';
import { HybridClock } from '../src/replication/hlc.js';
import { RangeDigests, resync } from '../src/replication/resync.js';
import { RegionStore } from '../src/replication/store.js';
import { requireProgram } from './helpers/programs.js';
import { startRedis } from './replication-helpers.js';

async function twoRedis(t: import('node:test').TestContext) {
  const program = requireProgram(t, 'redis-server');
  if (!program) return null;
  const [a, b] = await Promise.all([startRedis(program), startRedis(program)]);
  const from = new Redis(a.url);
  const to = new Redis(b.url);
  t.after(async () => {
    from.disconnect();
    to.disconnect();
    await Promise.all([a.stop(), b.stop()]);
  });
  const store = (redis: Redis) => new RegionStore(redis, { keyPrefix: 'mc:', tombstoneTtlMs: 600_000 });
  return { from, to, fromStore: store(from), toStore: store(to) };
}

test('range digests do not depend on the order keys are seen', () => {
  const a = new RangeDigests(16);
  const b = new RangeDigests(16);
  const rows = Array.from({ length: 200 }, (_, i) => [`k${i}`, `stamp${i}`] as const);
  for (const [k, s] of rows) a.add(k, s);
  for (const [k, s] of [...rows].reverse()) b.add(k, s);
  assert.equal(a.differing(b).size, 0);
  b.add('k200', 'x');
  assert.equal(a.differing(b).size, 1);
});

test('resync copies missing and older records, tombstones and expiries, and nothing else', async (t) => {
  const r = await twoRedis(t);
  if (!r) return;
  const clock = new HybridClock('us-east-1');
  const at = Date.now();
  const expireAt = Date.now() + 3_600_000;
  const older = clock.tick();
  await r.toStore.apply({ op: 'set', key: 'stale', value: 'old', hlc: older, at });
  await Promise.all([
    r.fromStore.apply({ op: 'set', key: 'stale', value: 'new', hlc: clock.tick(), at }),
    r.fromStore.apply({ op: 'set', key: 'ttl', value: 'v', hlc: clock.tick(), at, expireAt }),
    r.fromStore.apply({ op: 'del', key: 'gone', hlc: clock.tick(), at }),
    ...Array.from({ length: 50 }, (_, i) =>
      r.fromStore.apply({ op: 'set', key: `same:${i}`, value: 'x', hlc: older, at }),
    ),
    ...Array.from({ length: 50 }, (_, i) =>
      r.toStore.apply({ op: 'set', key: `same:${i}`, value: 'x', hlc: older, at }),
    ),
  ]);
  await r.from.set('mc:__gap:us-west-2', 'not a cache record');
  const result = await resync({ from: r.from, to: r.to, ranges: 64 });
  assert.equal(result.keysCopied, 3);
  assert.ok(result.rangesDiffering >= 1 && result.rangesDiffering <= 3);
  assert.equal(await r.to.hget('mc:stale', 'v'), 'new');
  assert.equal(await r.to.call('PEXPIRETIME', 'mc:ttl'), expireAt);
  assert.deepEqual(await r.to.hgetall('mc:gone'), { h: await r.from.hget('mc:gone', 'h') });
  assert.equal(await r.to.exists('mc:__gap:us-west-2'), 0);
  assert.ok(converged(await diffRegions(r.from, r.to)));
  assert.deepEqual(await resync({ from: r.from, to: r.to, ranges: 64 }), {
    ranges: 64,
    rangesDiffering: 0,
    keysCopied: 0,
    newerInTarget: 0,
  });
});

test('resync while the target keeps writing never overwrites a newer value', async (t) => {
  const r = await twoRedis(t);
  if (!r) return;
  const keys = 5_000;
  const source = new HybridClock('us-east-1');
  const at = Date.now();
  await Promise.all(
    Array.from({ length: keys }, (_, i) =>
      r.fromStore.apply({ op: 'set', key: `k:${i}`, value: `from ${i}`, hlc: source.tick(), at }),
    ),
  );
  // The target's own writers, on their own connection, newer than everything in the source.
  const writer = new Redis(r.to.options);
  t.after(() => writer.disconnect());
  const writerStore = new RegionStore(writer, { keyPrefix: 'mc:', tombstoneTtlMs: 600_000 });
  const target = new HybridClock('us-west-2');
  target.observe(source.tick());
  const lastWritten = new Map<string, string>();
  let running = true;
  let writesDuring = 0;
  const writing = (async () => {
    let n = 0;
    while (running) {
      // Spread over the key space, a few at a time, so some land before the pass reaches a key and some after.
      const batch = Array.from({ length: 8 }, () => `k:${(n++ * 7919) % keys}`);
      await Promise.all(
        batch.map((key) => {
          const value = `to ${n} ${key}`;
          lastWritten.set(key, value);
          return writerStore.apply({ op: 'set', key, value, hlc: target.tick(), at: Date.now() });
        }),
      );
      writesDuring += batch.length;
    }
  })();
  const result = await resync({ from: r.from, to: r.to, ranges: 256 });
  running = false;
  await writing;
  assert.ok(writesDuring > 0, 'the target wrote while the pass ran');
  assert.ok(result.keysCopied > 0);
  let kept = 0;
  for (let i = 0; i < keys; i++) {
    const key = `k:${i}`;
    const value: string | null = await r.to.hget(`mc:${key}`, 'v');
    const expected = lastWritten.get(key) ?? `from ${i}`;
    assert.equal(value, expected, key);
    if (lastWritten.has(key)) kept++;
  }
  assert.equal(kept, lastWritten.size);
});
