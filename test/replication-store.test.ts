// The compare-and-apply Lua script in a real Redis and the in-memory store:
// last writer wins by stamp, replays are harmless, tombstones hold off older
// writes and expire. Both run the same conformance cases, and must answer a
// random history the same way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../src/replication/cache.js';
import { formatHlc } from '../src/replication/hlc.js';
import { MemoryStore } from '../src/replication/memory-store.js';
import { createMemoryTransport } from '../src/replication/memory-transport.js';
import { RegionStore } from '../src/replication/store.js';
import { requireProgram } from './helpers/programs.js';
import { eventually, startRedis } from './replication-helpers.js';
import {
  outboxConformance,
  randomHistory,
  storeConformance,
  TOMBSTONE_TTL_MS,
} from './replication-store-conformance.js';

const stamp = (wall: number, counter = 0, origin = 'a') => formatHlc({ wall, counter, origin });
const now = Date.now();

test('compare-and-apply in memory (MemoryStore)', async (t) => {
  await storeConformance(t, new MemoryStore({ tombstoneTtlMs: TOMBSTONE_TTL_MS }));
  await outboxConformance(t, (outboxMaxLength) => new MemoryStore({ outboxMaxLength }));

  await t.test('a local write after a remote one stamped in the future still wins', async () => {
    const store = new MemoryStore();
    const cache = createReplicatedCache({ region: 'b', store, transport: createMemoryTransport() });
    const ahead = stamp(now + 60_000, 0, 'a');
    await store.apply({ op: 'set', key: 'k4', value: 'from a', hlc: ahead, at: now });
    await cache.set('k4', 'from b');
    assert.equal(await cache.get('k4'), 'from b');
    assert.ok((await store.stamp('k4'))! > ahead);
  });

  await t.test('scan lists live records under a prefix, tombstones included', async () => {
    let clock = now;
    const store = new MemoryStore({ tombstoneTtlMs: 1000, now: () => clock });
    await store.apply({ op: 'set', key: 'u/1', value: 'a', hlc: stamp(now, 1), at: now });
    await store.apply({ op: 'del', key: 'u/2', hlc: stamp(now, 2), at: now });
    await store.apply({ op: 'set', key: 'v/1', value: 'b', hlc: stamp(now, 3), at: now });
    const keys = (prefix: string) => [...store.scan(prefix)].map(([k, r]) => `${k}=${r.value}`);
    assert.deepEqual(keys('u/'), ['u/1=a', 'u/2=null']);
    clock += 1001;
    assert.deepEqual(keys('u/'), ['u/1=a'], 'the tombstone expired');
    assert.equal(store.size, 2);
  });
});

test('compare-and-apply in Redis', async (t) => {
  const program = requireProgram(t, 'redis-server');
  if (!program) return;
  const server = await startRedis(program);
  const redis = new Redis(server.url);
  const store = new RegionStore(redis, { keyPrefix: 't:', tombstoneTtlMs: TOMBSTONE_TTL_MS });
  try {
    await t.test('conformance', (t) => storeConformance(t, store));
    let outboxes = 0;
    await t.test('outbox conformance', (t) =>
      outboxConformance(
        t,
        (outboxMaxLength) =>
          new RegionStore(redis, { keyPrefix: `ob${++outboxes}:`, tombstoneTtlMs: 600_000, outboxMaxLength }),
      ),
    );

    await t.test('Redis and the in-memory store answer a random history the same', async () => {
      const memory = new MemoryStore({ tombstoneTtlMs: 600_000 });
      const redisStore = new RegionStore(redis, { keyPrefix: 't:', tombstoneTtlMs: 600_000 });
      const history = randomHistory('h:', 3000);
      // In slices applied at once, as a relay does (one script call per slice in Redis).
      for (let i = 0; i < history.length; i += 100) {
        const slice = history.slice(i, i + 100);
        const [fromRedis, fromMemory] = await Promise.all([
          Promise.all(slice.map((e) => redisStore.apply(e))),
          Promise.all(slice.map((e) => memory.apply(e))),
        ]);
        assert.deepEqual(fromMemory, fromRedis, `events ${i}-${i + slice.length - 1}`);
      }
      for (const key of new Set(history.map((e) => e.key))) {
        assert.equal(await memory.get(key), await redisStore.get(key), `value of ${key}`);
        assert.equal(await memory.stamp(key), await redisStore.stamp(key), `stamp of ${key}`);
      }
    });

    await t.test('an expired tombstone leaves nothing in Redis', async () => {
      await store.apply({ op: 'del', key: 'k2', hlc: stamp(now, 3), at: now });
      assert.ok((await redis.pttl('t:k2')) > 0);
      await eventually('tombstone expired', async () => (await redis.exists('t:k2')) === 0);
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
