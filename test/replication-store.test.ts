// The compare-and-apply Lua script in a real Redis: last writer wins by
// stamp, replays are harmless, tombstones hold off older writes and expire.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../src/replication/cache.js';
import { formatHlc } from '../src/replication/hlc.js';
import { createMemoryTransport } from '../src/replication/memory-transport.js';
import { RegionStore } from '../src/replication/store.js';
import { requireProgram } from './helpers/programs.js';
import { eventually, startRedis } from './replication-helpers.js';

const stamp = (wall: number, counter = 0, origin = 'a') => formatHlc({ wall, counter, origin });
const now = Date.now();

test('compare-and-apply in Redis', async (t) => {
  const program = requireProgram(t, 'redis-server');
  if (!program) return;
  const server = await startRedis(program);
  const redis = new Redis(server.url);
  const store = new RegionStore(redis, { keyPrefix: 't:', tombstoneTtlMs: 300 });
  try {
    await t.test('the same event twice: applied once, state unchanged', async () => {
      const e = { op: 'set' as const, key: 'k1', value: 'v', hlc: stamp(now), at: now };
      assert.equal((await store.apply(e)).outcome, 'applied');
      assert.deepEqual(await store.apply(e), { outcome: 'duplicate', stamp: e.hlc });
      assert.equal(await store.get('k1'), 'v');
    });

    const order = [
      { name: 'wall clock', older: stamp(now, 5, 'z'), newer: stamp(now + 1, 0, 'a') },
      { name: 'counter', older: stamp(now, 1), newer: stamp(now, 2) },
      { name: 'origin, in byte order', older: stamp(now, 1, 'us-east-1'), newer: stamp(now, 1, 'us-west-2') },
    ];
    for (const c of order) {
      await t.test(`an older write arriving late loses (${c.name})`, async () => {
        const key = `order:${c.name}`;
        await store.apply({ op: 'set', key, value: 'new', hlc: c.newer, at: now });
        assert.deepEqual(await store.apply({ op: 'set', key, value: 'old', hlc: c.older, at: now }), {
          outcome: 'stale',
          stamp: c.newer,
        });
        assert.equal(await store.get(key), 'new');
      });
    }

    await t.test('a delete leaves a tombstone that beats older writes, then expires', async () => {
      await store.apply({ op: 'set', key: 'k2', value: 'v', hlc: stamp(now, 1), at: now });
      await store.apply({ op: 'del', key: 'k2', hlc: stamp(now, 3), at: now });
      assert.equal(
        (await store.apply({ op: 'set', key: 'k2', value: 'late', hlc: stamp(now, 2), at: now })).outcome,
        'stale',
      );
      assert.equal(await store.get('k2'), null);
      assert.equal(await store.stamp('k2'), stamp(now, 3));
      await eventually('tombstone expired', async () => (await redis.exists('t:k2')) === 0);
    });

    await t.test('a set whose expiry has passed is stored as a tombstone', async () => {
      await store.apply({ op: 'set', key: 'k3', value: 'v', expireAt: now - 1, hlc: stamp(now, 9), at: now });
      assert.equal(await store.get('k3'), null);
      assert.equal(await store.stamp('k3'), stamp(now, 9));
    });

    await t.test('a local write after a remote one stamped in the future still wins', async () => {
      const cache = createReplicatedCache({
        region: 'b',
        redis,
        transport: createMemoryTransport(),
        keyPrefix: 't:',
      });
      const ahead = stamp(now + 60_000, 0, 'a');
      await store.apply({ op: 'set', key: 'k4', value: 'from a', hlc: ahead, at: now });
      await cache.set('k4', 'from b');
      assert.equal(await cache.get('k4'), 'from b');
      assert.ok((await store.stamp('k4'))! > ahead);
    });

    await t.test('a key holding other data is left alone', async () => {
      await redis.set('t:foreign', 'not ours');
      const e = { op: 'set' as const, key: 'foreign', value: 'v', hlc: stamp(now), at: now };
      assert.equal((await store.apply(e)).outcome, 'foreign');
      assert.equal(await redis.get('t:foreign'), 'not ours');
      const cache = createReplicatedCache({
        region: 'b',
        redis,
        transport: createMemoryTransport(),
        keyPrefix: 't:',
      });
      await assert.rejects(cache.set('foreign', 'v'), { code: 'CONFLICT' });
    });

    await t.test('bad arguments are MeridianErrors', async () => {
      const cache = createReplicatedCache({ region: 'b', redis, transport: createMemoryTransport() });
      await assert.rejects(cache.set('', 'v'), { code: 'BAD_ARGUMENT' });
      await assert.rejects(cache.set('k', 'v', { ttlMs: -1 }), { code: 'BAD_ARGUMENT' });
      await assert.rejects(cache.get('x'.repeat(2000)), { code: 'BAD_ARGUMENT' });
    });
  } finally {
    redis.disconnect();
    await server.stop();
  }
});
