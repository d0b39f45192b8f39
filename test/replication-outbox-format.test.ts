// The outbox's entries on real redis-server (and nats-server): an entry holds
// the events of one write script, an outbox left by the previous format (one
// event per entry) still ships after an upgrade, and `maxLength` still counts
// events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../src/replication/cache.js';
import { encodeEvent, joinEncodedEvents, MAX_BATCH_BYTES } from '../src/replication/event.js';
import { HybridClock } from '../src/replication/hlc.js';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { outboxCountKey, outboxKey } from '../src/replication/outbox-script.js';
import { startRelay } from '../src/replication/relay.js';
import { startShipper } from '../src/replication/shipper.js';
import { requireProgram } from './helpers/programs.js';
import { eventually, startNats, startRedis } from './replication-helpers.js';

async function redisServer(t: test.TestContext): Promise<Redis | null> {
  const program = requireProgram(t, 'redis-server');
  if (!program) return null;
  const server = await startRedis(program);
  const redis = new Redis(server.url);
  t.after(async () => {
    redis.disconnect();
    await server.stop();
  });
  return redis;
}

test('outbox: one entry per write script, the events of a burst together', async (t) => {
  const redis = await redisServer(t);
  if (!redis) return;
  const cache = createReplicatedCache({ region: 'east', redis });
  await Promise.all(Array.from({ length: 100 }, (_, i) => cache.set(`b:${i}`, `v${i}`)));
  const entries = await cache.store.readOutbox('0-0', 10);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].events, 100);
  const events = JSON.parse(`[${entries[0].encoded}]`) as { k: string }[];
  assert.deepEqual(
    events.map((e) => e.k),
    Array.from({ length: 100 }, (_, i) => `b:${i}`),
  );
  assert.equal(await cache.store.outboxDepth(), 100);
});

test('outbox: an entry stays under one message, large values cut a burst into several', async (t) => {
  const redis = await redisServer(t);
  if (!redis) return;
  const cache = createReplicatedCache({ region: 'east', redis });
  const big = (i: number) => String(i).repeat(400 * 1024);
  await Promise.all(Array.from({ length: 6 }, (_, i) => cache.set(`big:${i}`, big(i))));
  const entries = await cache.store.readOutbox('0-0', 10);
  assert.deepEqual(
    entries.map((e) => e.events),
    [2, 2, 2],
  );
  for (const e of entries) assert.ok(e.encoded.length <= MAX_BATCH_BYTES);
  assert.equal(await cache.store.outboxDepth(), 6);
});

test('outbox: maxLength counts events, not entries; a burst past it is refused event by event', async (t) => {
  const redis = await redisServer(t);
  if (!redis) return;
  const cache = createReplicatedCache({ region: 'east', redis, outboxMaxLength: 10 });
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => cache.set(`m:${i}`, 'v')));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
  for (const r of results.slice(10)) {
    assert.equal(r.status, 'rejected');
    assert.equal((r as PromiseRejectedResult).reason.code, 'REPLICATION_UNAVAILABLE');
  }
  assert.equal(await cache.store.stamp('m:11'), null, 'a refused write is not applied');
  assert.equal(await cache.store.outboxDepth(), 10);
  const [entry] = await cache.store.readOutbox('0-0', 10);
  await cache.store.trimOutbox(entry.id);
  await cache.store.trimOutbox(entry.id);
  assert.equal(await cache.store.outboxDepth(), 0, 'a trim repeated takes nothing off twice');
  await cache.set('m:11', 'v');
  assert.equal(await cache.store.outboxDepth(), 1);
});

test('outbox: entries of the previous format (one event each) ship after an upgrade, with new ones', async (t) => {
  const redis = await redisServer(t);
  const natsProgram = redis && requireProgram(t, 'nats-server');
  if (!redis || !natsProgram) return;
  const nats = await startNats(natsProgram);
  t.after(() => nats.stop());
  const westServer = await startRedis(requireProgram(t, 'redis-server')!);
  const west = new Redis(westServer.url);
  t.after(async () => {
    west.disconnect();
    await westServer.stop();
  });
  // What a Meridian before batched entries left in the outbox: one XADD per event, no count key.
  const clock = new HybridClock('east');
  for (let i = 0; i < 50; i++) {
    const event = { op: 'set' as const, key: `u:${i}`, value: `old${i}`, hlc: clock.tick(), at: Date.now() };
    await redis.xadd(outboxKey('mc:'), '*', 'e', encodeEvent(event));
  }
  assert.equal(await redis.exists(outboxCountKey('mc:')), 0);
  const cache = createReplicatedCache({ region: 'east', redis });
  assert.equal(await cache.store.outboxDepth(), 50, 'old entries count one event each');
  await Promise.all(Array.from({ length: 100 }, (_, i) => cache.set(`u:${50 + i}`, `new${50 + i}`)));
  assert.equal(await cache.store.outboxDepth(), 150);

  const transport = await connectNatsTransport({ servers: [nats.url], stream: 'OB_UPGRADE' });
  const relay = await startRelay({ region: 'west', sources: ['east'], redis: west, transport });
  const shipper = startShipper({ region: 'east', redis, transport, batchMax: 30 });
  t.after(async () => {
    await shipper.close();
    await relay.close();
    await transport.close();
  });
  await eventually('the outbox drained', async () => (await cache.store.outboxDepth()) === 0);
  await eventually('every event arrived', async () => relay.stats().applied === 150);
  for (let i = 0; i < 150; i++)
    assert.equal(await west.hget(`mc:u:${i}`, 'v'), i < 50 ? `old${i}` : `new${i}`);
  assert.equal(shipper.stats().shipped, 150);
  assert.equal(await redis.xlen(outboxKey('mc:')), 0);
});

test('outbox: a shipper of the previous format (first value of an entry = one event) reads the new entries right', async (t) => {
  const redis = await redisServer(t);
  if (!redis) return;
  const cache = createReplicatedCache({ region: 'east', redis });
  await Promise.all(Array.from({ length: 30 }, (_, i) => cache.set(`r:${i}`, `v${i}`)));
  await cache.set('r:30', 'v30');
  const rows = await redis.xrange(outboxKey('mc:'), '-', '+');
  assert.equal(rows.length, 2);
  // What that shipper did: fields[1] of each entry, joined by ',' into the message.
  const message = JSON.parse(
    joinEncodedEvents(
      'east',
      rows.map(([, fields]) => fields[1]),
    ).toString(),
  );
  assert.deepEqual(
    message.e.map((e: { k: string }) => e.k),
    Array.from({ length: 31 }, (_, i) => `r:${i}`),
  );
});

test('outbox: the count of events comes back to 0 when the outbox empties, whoever wrote it', async (t) => {
  const redis = await redisServer(t);
  if (!redis) return;
  const cache = createReplicatedCache({ region: 'east', redis });
  await Promise.all(Array.from({ length: 5 }, (_, i) => cache.set(`c:${i}`, 'v')));
  // A writer of the previous format, mid-upgrade: an entry the count does not know.
  await redis.xadd(outboxKey('mc:'), '*', 'e', '{}');
  assert.equal(await cache.store.outboxDepth(), 5);
  const entries = await cache.store.readOutbox('0-0', 10);
  await cache.store.trimOutbox(entries[0].id);
  assert.equal(await cache.store.outboxDepth(), 0, 'not counted, not subtracted twice');
  await cache.store.trimOutbox(entries[1].id);
  assert.equal(await cache.store.outboxDepth(), 0);
  assert.equal(await redis.get(outboxCountKey('mc:')), '0');
});
