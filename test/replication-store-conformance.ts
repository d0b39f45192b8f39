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

/**
 * The outbox rules (store.write): `makeStore(maxLength)` gives a store with an
 * empty outbox holding at most maxLength events.
 */
export async function outboxConformance(t: TestContext, makeStore: (maxLength: number) => CacheStore) {
  const now = Date.now();
  const event = (key: string, hlc: string): ReplicationEvent => ({
    op: 'set',
    key,
    value: 'v',
    hlc,
    at: now,
  });

  await t.test(
    'a winning write enters the outbox with its outgoing event; a losing one does not',
    async () => {
      const store = makeStore(100);
      const first = event('o:k', stamp(now, 2));
      const outgoing: ReplicationEvent = { op: 'inv', key: 'o:k', hlc: first.hlc, at: now };
      assert.equal((await store.write(first, outgoing)).outcome, 'applied');
      assert.equal((await store.write(event('o:k', stamp(now, 1)), first)).outcome, 'stale');
      assert.equal(await store.get('o:k'), 'v', 'the local write is the set, not the outgoing inv');
      const entries = await store.readOutbox('0-0', 10);
      assert.equal(entries.length, 1);
      assert.deepEqual(JSON.parse(entries[0].encoded.toString()), {
        op: 'inv',
        k: 'o:k',
        h: first.hlc,
        at: now,
      });
      assert.equal(await store.outboxDepth(), 1);
      assert.ok((await store.outboxOldestAgeMs())! >= 0);
    },
  );

  await t.test('read after an id, trim up to an id, in order', async () => {
    const store = makeStore(100);
    for (let i = 0; i < 5; i++)
      await store.write(event(`o:${i}`, stamp(now, i)), event(`o:${i}`, stamp(now, i)));
    const all = await store.readOutbox('0-0', 10);
    assert.deepEqual(
      all.map((e) => JSON.parse(e.encoded.toString()).k),
      ['o:0', 'o:1', 'o:2', 'o:3', 'o:4'],
    );
    assert.deepEqual(
      (await store.readOutbox(all[1].id, 2)).map((e) => e.id),
      [all[2].id, all[3].id],
    );
    await store.trimOutbox(all[2].id);
    assert.deepEqual(
      (await store.readOutbox('0-0', 10)).map((e) => e.id),
      [all[3].id, all[4].id],
    );
    await store.trimOutbox(all[4].id);
    assert.equal(await store.outboxDepth(), 0);
    assert.equal(await store.outboxOldestAgeMs(), null);
  });

  await t.test('a full outbox refuses the write whole: not applied, not queued', async () => {
    const store = makeStore(2);
    await store.write(event('f:1', stamp(now, 1)), event('f:1', stamp(now, 1)));
    await store.write(event('f:2', stamp(now, 2)), event('f:2', stamp(now, 2)));
    await assert.rejects(store.write(event('f:3', stamp(now, 3)), event('f:3', stamp(now, 3))), {
      code: 'REPLICATION_UNAVAILABLE',
    });
    assert.equal(await store.stamp('f:3'), null);
    assert.equal(await store.outboxDepth(), 2);
  });
}
