// The behaviour every replication transport must show, run against real
// Redis servers: test/replication-nats.test.ts and -memory.test.ts call it.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createReplicatedCache } from '../src/replication/cache.js';
import { converged, diffRegions } from '../src/replication/converge.js';
import { encodeBatch } from '../src/replication/event.js';
import { formatHlc } from '../src/replication/hlc.js';
import { startRelay } from '../src/replication/relay.js';
import { startShipper } from '../src/replication/shipper.js';
import type { ReplicationTransport } from '../src/replication/transport.js';
import { eventually } from './replication-helpers.js';

export const EAST = 'us-east-1';
export const WEST = 'us-west-2';

/** One transport handle per region (a NATS connection each, or one shared in-process log). */
export interface TransportPair {
  east: ReplicationTransport;
  west: ReplicationTransport;
  close(): Promise<void>;
}

export function pairOfRegions(east: Redis, west: Redis, transports: TransportPair) {
  const registry = new Registry();
  const keyspaces = [{ prefix: 'session:', mode: 'invalidate' as const }];
  const cacheEast = createReplicatedCache({ region: EAST, redis: east, registry, keyspaces });
  const cacheWest = createReplicatedCache({ region: WEST, redis: west, registry, keyspaces });
  // Writes wait in each region's outbox; a shipper per region publishes them.
  const shippers = [
    startShipper({ region: EAST, store: cacheEast.store, transport: transports.east, registry }),
    startShipper({ region: WEST, store: cacheWest.store, transport: transports.west, registry }),
  ];
  const stopShipping = async () => void (await Promise.all(shippers.map((s) => s.close())));
  const relayInto = (region: string) =>
    startRelay({
      region,
      sources: [EAST, WEST],
      redis: region === EAST ? east : west,
      transport: region === EAST ? transports.east : transports.west,
      registry,
    });
  return { registry, cacheEast, cacheWest, relayInto, shippers, stopShipping };
}

export async function replicationSuite(
  t: TestContext,
  redisUrls: [string, string],
  makeTransports: (label: string) => Promise<TransportPair>,
) {
  const east = new Redis(redisUrls[0]);
  const west = new Redis(redisUrls[1]);
  const fresh = async (label: string) => {
    await Promise.all([east.flushall(), west.flushall()]);
    const made = await makeTransports(label);
    const pair = pairOfRegions(east, west, made);
    const close = async () => {
      await pair.stopShipping();
      await made.close();
    };
    return { ...pair, transports: { ...made, close } };
  };
  try {
    await cases(t, east, west, fresh);
  } finally {
    east.disconnect();
    west.disconnect();
  }
}

type Fresh = (label: string) => Promise<{ transports: TransportPair } & ReturnType<typeof pairOfRegions>>;

async function cases(t: TestContext, east: Redis, west: Redis, fresh: Fresh) {
  await t.test('writes replicate in both directions: values, TTLs, deletes, invalidations', async () => {
    const { transports, cacheEast, cacheWest, relayInto } = await fresh('both');
    const relays = [await relayInto(EAST), await relayInto(WEST)];
    await cacheEast.set('user:1', 'ada');
    await cacheWest.set('user:2', 'grace', { ttlMs: 60_000 });
    await cacheWest.set('session:9', 'west-copy');
    // East writes after it has seen west's write (its invalidation, a tombstone). Without
    // that, both writes can fall in one millisecond, and then the stamps order them by
    // region name (us-west-2 after us-east-1), not by which came first.
    await eventually(
      'west write seen in east',
      async () => (await cacheEast.store.stamp('session:9')) !== null,
    );
    await cacheEast.set('session:9', 'east-only');
    await eventually('values crossed', async () => (await cacheWest.get('user:1')) === 'ada');
    await eventually('values crossed back', async () => (await cacheEast.get('user:2')) === 'grace');
    assert.ok(
      (await west.pttl('mc:user:2')) > 0 && (await east.pttl('mc:user:2')) > 0,
      'TTL in both regions',
    );
    await eventually(
      'invalidation removed the other copy',
      async () => (await cacheWest.get('session:9')) === null,
    );
    assert.equal(await cacheEast.get('session:9'), 'east-only');
    // Three 300 KB values written together travel as more than one message (NATS max_payload is 1 MiB).
    const big = (i: number) => String(i).repeat(300_000);
    await Promise.all([0, 1, 2].map((i) => cacheEast.set(`big:${i}`, big(i))));
    await eventually('large values crossed', async () => (await cacheWest.get('big:2')) === big(2));
    await assert.rejects(cacheEast.set('huge', 'x'.repeat(600_000)), { code: 'BAD_ARGUMENT' });
    await cacheWest.delete('user:1');
    await eventually('delete crossed', async () => (await cacheEast.get('user:1')) === null);
    await Promise.all(relays.map((r) => r.close()));
    await transports.close();
  });

  await t.test('a partition with writes on both sides converges after the heal, nothing lost', async () => {
    const { transports, cacheEast, cacheWest, relayInto } = await fresh('partition');
    const acked = new Map<string, string>();
    const write = async (cache: typeof cacheEast, key: string, value: string) => {
      await cache.set(key, value);
      acked.set(key, value);
    };
    // The relays are down: the link is cut; each side keeps serving writes.
    await Promise.all(Array.from({ length: 200 }, (_, i) => write(cacheEast, `e:${i}`, `east ${i}`)));
    await Promise.all(Array.from({ length: 200 }, (_, i) => write(cacheWest, `w:${i}`, `west ${i}`)));
    await write(cacheEast, 'shared', 'east wrote first');
    await new Promise((r) => setTimeout(r, 5));
    await write(cacheWest, 'shared', 'west wrote last');
    await cacheEast.delete('e:0');
    acked.delete('e:0');
    await eventually(
      'events queue in the transport while the link is cut',
      async () => (await transports.east.queueDepth(EAST, WEST)) > 0,
    );

    const relays = [await relayInto(EAST), await relayInto(WEST)];
    await eventually('queues drained', async () => {
      const depths = await Promise.all(relays.map((r) => r.queueDepths()));
      return depths.every((d) => [...d.values()].every((n) => n === 0));
    });
    await eventually('regions converged', async () => converged(await diffRegions(east, west)));
    for (const [key, value] of acked) {
      assert.equal(await cacheEast.get(key), value, `east ${key}`);
      assert.equal(await cacheWest.get(key), value, `west ${key}`);
    }
    assert.equal(await cacheWest.get('e:0'), null, 'the delete made during the partition won');
    assert.ok(relays[0].stats().conflicts + relays[1].stats().conflicts >= 1, 'the older shared write lost');
    await Promise.all(relays.map((r) => r.close()));
    await transports.close();
  });

  await t.test('a restarted relay resumes where it stopped', async () => {
    const { transports, cacheEast, cacheWest, relayInto } = await fresh('restart');
    const first = await relayInto(WEST);
    await Promise.all(Array.from({ length: 300 }, (_, i) => cacheEast.set(`k:${i}`, `v${i}`)));
    await eventually('first relay applied its share', async () => first.stats().applied === 300);
    await first.close();
    await Promise.all(Array.from({ length: 300 }, (_, i) => cacheEast.set(`k:${300 + i}`, `v${300 + i}`)));
    const second = await relayInto(WEST);
    await eventually('second relay caught up', async () => (await cacheWest.get('k:599')) === 'v599');
    await eventually('second relay finished', async () => second.stats().applied === 300);
    assert.equal(second.stats().duplicates, 0, 'nothing before the stop was replayed');
    for (let i = 0; i < 600; i += 37) assert.equal(await cacheWest.get(`k:${i}`), `v${i}`);
    await second.close();
    await transports.close();
  });

  await t.test('malformed events are rejected and counted, not applied', async () => {
    const { transports, cacheEast, cacheWest, relayInto, registry } = await fresh('malformed');
    const relay = await relayInto(WEST);
    const hlc = formatHlc({ wall: Date.now(), counter: 0, origin: EAST });
    await transports.east.publish(EAST, Buffer.from('{not json'));
    await transports.east.publish(
      EAST,
      encodeBatch({ origin: WEST, events: [{ op: 'del', key: 'x', hlc, at: 1 }] }),
    );
    const mixed = {
      v: 1,
      o: EAST,
      e: [
        { op: 'incr', k: 'bad', h: hlc, at: 1 },
        { op: 'set', k: 'good', val: 'ok', h: hlc, at: 1 },
      ],
    };
    await transports.east.publish(EAST, Buffer.from(JSON.stringify(mixed)));
    await cacheEast.set('after', 'still flowing');
    await eventually(
      'later writes still arrive',
      async () => (await cacheWest.get('after')) === 'still flowing',
    );
    assert.equal(await cacheWest.get('good'), 'ok');
    assert.equal(await west.exists('mc:bad', 'mc:x'), 0);
    assert.equal(relay.stats().malformed, 3);
    const text = await registry.metrics();
    assert.match(
      text,
      /meridian_replication_malformed_rejected_total\{source="us-east-1",destination="us-west-2"\} 3/,
    );
    await relay.close();
    await transports.close();
  });
}
