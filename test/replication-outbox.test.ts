// The transactional outbox on real redis-server and nats-server: nothing
// acknowledged is lost when the writer or the shipper is SIGKILLed, while
// NATS is down, or when a node of a 3-node cluster (R3 streams) dies.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { createReplicatedCache } from '../src/replication/cache.js';
import { connectNatsTransport, type NatsTransport } from '../src/replication/nats-transport.js';
import { type Relay, startRelay } from '../src/replication/relay.js';
import { type Shipper, startShipper } from '../src/replication/shipper.js';
import type { ReplicationTransport } from '../src/replication/transport.js';
import { startNatsCluster } from './helpers/nats-cluster.js';
import { requireProgram } from './helpers/programs.js';
import { eventually, type RunningServer, startNats, startRedis } from './replication-helpers.js';

const CHILD = new URL('./replication-outbox-child.ts', import.meta.url).pathname;

/** A child process whose stdout lines are handed to onLine; SIGKILLed at the end of the test at the latest. */
function child(args: string[], onLine: (line: string) => void): ChildProcess {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  createInterface({ input: p.stdout! }).on('line', onLine);
  process.once('exit', () => p.kill('SIGKILL'));
  return p;
}

const killed = (p: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });

interface Regions {
  east: Redis;
  west: Redis;
  redisUrls: [string, string];
}

async function twoRedis(t: test.TestContext): Promise<Regions | null> {
  const program = requireProgram(t, 'redis-server');
  if (!program) return null;
  const servers: RunningServer[] = await Promise.all([startRedis(program), startRedis(program)]);
  const east = new Redis(servers[0].url);
  const west = new Redis(servers[1].url);
  t.after(async () => {
    east.disconnect();
    west.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  });
  return { east, west, redisUrls: [servers[0].url, servers[1].url] };
}

/** Closed at the end of the test, last opened first. */
function closer(t: test.TestContext) {
  const items: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const close of items.reverse()) await close().catch(() => undefined);
  });
  return <T extends { close(): Promise<unknown> }>(x: T): T => {
    items.push(() => x.close());
    return x;
  };
}

/** Two Redis and one nats-server, stopped after the test; null (skipped) when a program is missing. */
async function redisAndNats(t: test.TestContext) {
  // First registered, so it runs before the servers stop (after hooks run in order).
  const keep = closer(t);
  const regions = await twoRedis(t);
  const natsProgram = regions && requireProgram(t, 'nats-server');
  if (!regions || !natsProgram) return null;
  const nats = await startNats(natsProgram);
  t.after(() => nats.stop());
  return { keep, regions, nats };
}

const transportOf = (servers: string[], stream: string, extra: { replicas?: number } = {}) =>
  connectNatsTransport({ servers, stream, retryDelayMs: 100, publishTimeoutMs: 1000, ...extra });

async function missingIn(west: Redis, acked: Iterable<number>): Promise<number[]> {
  const missing: number[] = [];
  for (const i of acked) if ((await west.hget(`mc:w:${i}`, 'v')) !== `v${i}`) missing.push(i);
  return missing;
}

test('outbox: every acknowledged write of a SIGKILLed writer reaches the other region', async (t) => {
  const servers = await redisAndNats(t);
  if (!servers) return;
  const { keep, regions, nats } = servers;
  const transport = keep(await transportOf([nats.url], 'OB_A'));
  keep(startShipper({ region: 'east', redis: regions.east, transport }));
  const relay = keep(await startRelay({ region: 'west', sources: ['east'], redis: regions.west, transport }));

  const acked = new Set<number>();
  const writer = child(['writer', regions.redisUrls[0], '100000'], (line) => {
    if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
  });
  await eventually('the writer is mid-burst', async () => acked.size >= 3000);
  await killed(writer);
  assert.ok(acked.size < 100_000, 'killed before it finished');
  await eventually('the outbox drained', async () => (await regions.east.xlen('mc:__outbox')) === 0);
  await eventually(
    'every acknowledged write arrived',
    async () => (await missingIn(regions.west, acked)).length === 0,
  );
  assert.ok(relay.stats().applied >= acked.size);
});

test('unsafe-ack-before-publish: the same kill loses acknowledged writes (what the outbox prevents)', async (t) => {
  const servers = await redisAndNats(t);
  if (!servers) return;
  const { keep, regions, nats } = servers;
  const transport = keep(await transportOf([nats.url], 'OB_U'));
  const relay = keep(await startRelay({ region: 'west', sources: ['east'], redis: regions.west, transport }));
  const acked = new Set<number>();
  // Killed the moment an acknowledgement is read: that write is still in the
  // writer's queue (on a loaded machine, acks come in bursts with idle gaps
  // in which the queue empties; a kill in a gap would lose nothing).
  let kill = () => {};
  const gone = new Promise<void>((resolve) => {
    kill = resolve;
  });
  const writer = child(['writer', regions.redisUrls[0], '100000', 'unsafe', nats.url, 'OB_U'], (line) => {
    if (!line.startsWith('ack ')) return;
    acked.add(Number(line.slice(4)));
    if (acked.size >= 3000 && writer.signalCode === null) {
      writer.kill('SIGKILL');
      kill();
    }
  });
  await gone;
  await killed(writer);
  // Whatever was published has arrived once the relay stops applying.
  let applied = -1;
  await eventually('the relay settled', async () => {
    const now = relay.stats().applied;
    const settled = now === applied && (await transport.queueDepth('east', 'west')) === 0;
    applied = now;
    await new Promise((r) => setTimeout(r, 200));
    return settled;
  });
  const missing = await missingIn(regions.west, acked);
  assert.ok(
    missing.length > 0,
    `acknowledged writes queued in the killed process are lost (acknowledged ${acked.size}, missing ${missing.length})`,
  );
});

test('outbox: a SIGKILLed shipper is replaced and the rest ships; nothing lost, duplicates harmless', async (t) => {
  const servers = await redisAndNats(t);
  if (!servers) return;
  const { keep, regions, nats } = servers;
  const cache = createReplicatedCache({ region: 'east', redis: regions.east });
  const total = 4000;
  // 20 at a time: an outbox entry holds one write script's events, and the child ships 20 a message.
  for (let i = 0; i < total; i += 20)
    await Promise.all(Array.from({ length: 20 }, (_, j) => cache.set(`w:${i + j}`, `v${i + j}`)));
  assert.equal(await cache.store.outboxDepth(), total, 'all waiting in the outbox');
  const transport = keep(await transportOf([nats.url], 'OB_B'));
  const relay = keep(await startRelay({ region: 'west', sources: ['east'], redis: regions.west, transport }));

  let shipped = 0;
  const first = child(['shipper', regions.redisUrls[0], nats.url, 'OB_B', 'east'], (line) => {
    if (line.startsWith('shipped ')) shipped = Number(line.slice(8));
  });
  await eventually('the first shipper is mid-stream', async () => shipped >= 500);
  await killed(first);
  const left = await cache.store.outboxDepth();
  assert.ok(left > 0 && left < total, `killed mid-stream (${left} left)`);
  // It waits out the dead one's lease, then ships the rest.
  const second: Shipper = keep(
    startShipper({ region: 'east', redis: regions.east, transport, leaseMs: 1000 }),
  );
  await eventually('the outbox drained', async () => (await cache.store.outboxDepth()) === 0);
  await eventually(
    'every write arrived',
    async () =>
      (
        await missingIn(
          regions.west,
          Array.from({ length: total }, (_, i) => i),
        )
      ).length === 0,
  );
  assert.ok(second.stats().shipped <= left, 'the second shipper shipped only what was left');
  await eventually('the relay counted every write once', async () => relay.stats().applied === total);
  assert.equal(relay.stats().applied, total, 'a resend is a duplicate, not applied again');
});

test('outbox: with NATS down writes are acknowledged, kept until the PubAck, shipped when it returns', async (t) => {
  // First registered, so it runs before the servers stop (after hooks run in order).
  const keep = closer(t);
  const regions = await twoRedis(t);
  const cluster = regions && (await startNatsCluster(t, { names: ['solo'] }));
  if (!regions || !cluster) return;
  const node = cluster.nodes[0];
  const transport = keep(await transportOf(cluster.urls, 'OB_C'));
  const cache = createReplicatedCache({ region: 'east', redis: regions.east });
  const shipper = keep(startShipper({ region: 'east', store: cache.store, transport, retryDelayMs: 100 }));
  keep(await startRelay({ region: 'west', sources: ['east'], redis: regions.west, transport }));
  await cache.set('w:0', 'v0');
  await eventually('the link works', async () => (await regions.west.hget('mc:w:0', 'v')) === 'v0');

  await node.kill();
  const writes = Array.from({ length: 200 }, (_, i) => i + 1);
  await Promise.all(writes.map((i) => cache.set(`w:${i}`, `v${i}`)));
  const failuresBefore = shipper.stats().failures;
  await eventually(
    'the shipper tried and failed twice more',
    async () => shipper.stats().failures >= failuresBefore + 2,
  );
  assert.equal(await cache.store.outboxDepth(), 200, 'nothing trimmed without a PubAck');
  assert.equal(await regions.west.exists('mc:w:200'), 0);

  node.start();
  await node.healthy();
  await eventually('the outbox drained', async () => (await cache.store.outboxDepth()) === 0);
  await eventually(
    'the writes made while NATS was down arrived',
    async () => (await missingIn(regions.west, writes)).length === 0,
  );
});

test('outbox: an R3 stream keeps shipping when one NATS node of three is SIGKILLed', async (t) => {
  // First registered, so it runs before the servers stop (after hooks run in order).
  const keep = closer(t);
  const regions = await twoRedis(t);
  const cluster = regions && (await startNatsCluster(t));
  if (!regions || !cluster) return;
  const transport: NatsTransport = keep(await transportOf(cluster.urls, 'OB_E', { replicas: 3 }));
  const cache = createReplicatedCache({ region: 'east', redis: regions.east });
  keep(startShipper({ region: 'east', store: cache.store, transport }));
  const relay: Relay = keep(
    await startRelay({ region: 'west', sources: ['east'], redis: regions.west, transport }),
  );
  const before = Array.from({ length: 300 }, (_, i) => i);
  await Promise.all(before.map((i) => cache.set(`w:${i}`, `v${i}`)));
  await eventually('first writes arrived', async () => (await missingIn(regions.west, before)).length === 0);
  const info = await (await transport.connection.jetstreamManager()).streams.info('OB_E_east');
  assert.equal(info.config.num_replicas, 3);

  await cluster.nodes[0].kill();
  const after = Array.from({ length: 300 }, (_, i) => 300 + i);
  await Promise.all(after.map((i) => cache.set(`w:${i}`, `v${i}`)));
  await eventually('the outbox drained', async () => (await cache.store.outboxDepth()) === 0);
  await eventually(
    'writes after the kill arrived',
    async () => (await missingIn(regions.west, after)).length === 0,
  );
  assert.ok(relay.stats().applied >= 600);
});

test('outbox: a publish lost while a later one was stored goes again under an id of its own, not dropped as a duplicate', async (t) => {
  // First registered, so it runs before the servers stop (after hooks run in order).
  const keep = closer(t);
  const regions = await twoRedis(t);
  const cluster = regions && (await startNatsCluster(t, { names: ['solo'] }));
  if (!regions || !cluster) return;
  const nats = keep(await transportOf(cluster.urls, 'OB_LOST'));
  // The first message is lost on its way (a stream leader change in a partition) and its
  // publish fails only after the next message was stored. The shipper then sends both writes
  // again in one message that ends with the stored one's entry: JetStream's duplicate window
  // must not take it for that one.
  let publishes = 0;
  let laterStored!: () => void;
  const stored = new Promise<void>((resolve) => {
    laterStored = resolve;
  });
  const transport: ReplicationTransport = {
    ...nats,
    async publish(source, data, options) {
      const n = ++publishes;
      if (n === 1) {
        await stored;
        throw new Error('TIMEOUT: the message was lost on its way');
      }
      await nats.publish(source, data, options);
      if (n === 2) laterStored();
    },
  };
  const cache = createReplicatedCache({ region: 'east', redis: regions.east });
  keep(startShipper({ region: 'east', store: cache.store, transport, retryDelayMs: 100 }));
  keep(await startRelay({ region: 'west', sources: ['east'], redis: regions.west, transport: nats }));
  await cache.set('w:1', 'v1');
  await eventually('the first message is in flight', async () => publishes === 1);
  await cache.set('w:2', 'v2');
  await eventually('the outbox drained', async () => (await cache.store.outboxDepth()) === 0);
  assert.ok(publishes >= 3, 'the writes went again after the lost message');
  await eventually('both writes arrived', async () => (await missingIn(regions.west, [1, 2])).length === 0);
});
