// The rules every CacheStore follows (the Redis apply script and the
// in-memory store alike): test/replication-store.test.ts runs them against
// both, and checks that both give the same outcomes for a random history.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { ReplicationEvent } from '../src/replication/event.js';
import { formatHlc } from '../src/replication/hlc.js';
import type { CacheStore } from '../src/replication/store.js';
import { eventually } from './replication-helpers.js';

export const stamp = (wall: number, counter = 0, origin = 'a') => formatHlc({ wall, counter, origin });

/** The store's tombstone TTL must be TOMBSTONE_TTL_MS. */
export const TOMBSTONE_TTL_MS = 300;

export async function storeConformance(t: TestContext, store: CacheStore) {
  const now = Date.now();
  const set = (key: string, value: string, hlc: string, expireAt?: number): ReplicationEvent => ({
    op: 'set',
    key,
    value,
    hlc,
    at: now,
    expireAt,
  });

  await t.test('the same event twice: applied once, state unchanged', async () => {
    const e = set('c:k1', 'v', stamp(now));
    assert.deepEqual(await store.apply(e), { outcome: 'applied', stamp: '' });
    assert.deepEqual(await store.apply(e), { outcome: 'duplicate', stamp: e.hlc });
    assert.equal(await store.get('c:k1'), 'v');
    assert.equal(await store.stamp('c:k1'), e.hlc);
  });

  await t.test('a newer write replaces the value and reports the stamp it replaced', async () => {
    await store.apply(set('c:k2', 'one', stamp(now, 1)));
    assert.deepEqual(await store.apply(set('c:k2', 'two', stamp(now, 2))), {
      outcome: 'applied',
      stamp: stamp(now, 1),
    });
    assert.equal(await store.get('c:k2'), 'two');
  });

  const order = [
    { name: 'wall clock', older: stamp(now, 5, 'z'), newer: stamp(now + 1, 0, 'a') },
    { name: 'counter', older: stamp(now, 1), newer: stamp(now, 2) },
    { name: 'origin, in byte order', older: stamp(now, 1, 'us-east-1'), newer: stamp(now, 1, 'us-west-2') },
    { name: 'origin, a prefix is older', older: stamp(now, 1, 'us'), newer: stamp(now, 1, 'us-east-1') },
  ];
  for (const c of order) {
    await t.test(`an older write arriving late loses (${c.name})`, async () => {
      const key = `c:order:${c.name}`;
      await store.apply(set(key, 'new', c.newer));
      assert.deepEqual(await store.apply(set(key, 'old', c.older)), { outcome: 'stale', stamp: c.newer });
      assert.equal(await store.get(key), 'new');
    });
  }

  for (const op of ['del', 'inv'] as const) {
    await t.test(`a ${op} leaves a tombstone that beats older writes, then expires`, async () => {
      const key = `c:tomb:${op}`;
      await store.apply(set(key, 'v', stamp(now, 1)));
      assert.equal((await store.apply({ op, key, hlc: stamp(now, 3), at: now })).outcome, 'applied');
      assert.equal((await store.apply(set(key, 'late', stamp(now, 2)))).outcome, 'stale');
      assert.equal(await store.get(key), null);
      assert.equal(await store.stamp(key), stamp(now, 3));
      await eventually('tombstone expired', async () => (await store.stamp(key)) === null);
    });
  }

  await t.test('a newer set after a delete brings the key back', async () => {
    await store.apply({ op: 'del', key: 'c:revive', hlc: stamp(now, 1), at: now });
    assert.equal((await store.apply(set('c:revive', 'back', stamp(now, 2)))).outcome, 'applied');
    assert.equal(await store.get('c:revive'), 'back');
  });

  await t.test('a set whose expiry has passed is stored as a tombstone', async () => {
    await store.apply(set('c:expired', 'v', stamp(now, 9), now - 1));
    assert.equal(await store.get('c:expired'), null);
    assert.equal(await store.stamp('c:expired'), stamp(now, 9));
  });

  await t.test('a set with an expiry is gone after it; one without keeps', async () => {
    const soon = Date.now() + 200;
    await store.apply(set('c:ttl', 'v', stamp(now, 1), soon));
    await store.apply(set('c:ttl-replaced', 'v', stamp(now, 1), soon));
    await store.apply(set('c:ttl-replaced', 'forever', stamp(now, 2)));
    assert.equal(await store.get('c:ttl'), 'v');
    await eventually('expired', async () => (await store.stamp('c:ttl')) === null);
    assert.ok(Date.now() > soon, 'not before its expiry');
    assert.equal(await store.get('c:ttl-replaced'), 'forever');
  });

  await t.test('writes of one key applied at once in any order end at the newest', async () => {
    const events = Array.from({ length: 40 }, (_, i) => set('c:many', `v${i}`, stamp(now, i, 'b')));
    const shuffled = [...events].sort(() => Math.random() - 0.5);
    const results = await Promise.all(shuffled.map((e) => store.apply(e)));
    assert.ok(results.some((r) => r.outcome === 'applied'));
    assert.equal(await store.get('c:many'), 'v39');
    assert.equal(await store.stamp('c:many'), stamp(now, 39, 'b'));
  });
}

/**
 * A random history (duplicates, reordering, every op, TTLs) for keys under
 * `prefix`: two stores given the same history must answer the same.
 */
export function randomHistory(prefix: string, n: number, seed = 7): ReplicationEvent[] {
  let x = seed;
  const rand = () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
  const now = Date.now();
  const events: ReplicationEvent[] = [];
  for (let i = 0; i < n; i++) {
    if (events.length > 0 && rand() < 0.1) {
      events.push(events[Math.floor(rand() * events.length)]);
      continue;
    }
    const key = `${prefix}${Math.floor(rand() * 40)}`;
    const hlc = stamp(
      now + Math.floor(rand() * 5),
      Math.floor(rand() * 3),
      ['a', 'b', 'c'][Math.floor(rand() * 3)],
    );
    const r = rand();
    if (r < 0.6) {
      const ttl = rand() < 0.2 ? (rand() < 0.5 ? -1000 : 600_000) : 0;
      events.push({ op: 'set', key, value: `v${i}`, hlc, at: now, expireAt: ttl ? now + ttl : undefined });
    } else {
      events.push({ op: r < 0.8 ? 'del' : 'inv', key, hlc, at: now });
    }
  }
  return events;
}
