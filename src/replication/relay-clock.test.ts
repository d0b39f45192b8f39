// The relay's maximum clock offset and per-key conflicts, in process: three
// regions on the in-memory transport, each with its own clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createReplicatedCache } from './cache.js';
import { MemoryStore } from './memory-store.js';
import { createMemoryTransport } from './memory-transport.js';
import { canaryKey } from './probe.js';
import { startRelay } from './relay.js';
import { startShipper } from './shipper.js';

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = await registry.getSingleMetric(name)?.get();
  const hit = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return hit?.value ?? 0;
}

test('an event stamped too far ahead is held until the clock catches up, without holding other sources; conflicts are counted per keyspace and key', async (t) => {
  const transport = createMemoryTransport({ retryDelayMs: 20 });
  let westShiftMs = 0;
  const clocks = {
    fast: () => Date.now() + 5000,
    west: () => Date.now() + westShiftMs,
    east: Date.now,
  };
  const stores = { fast: new MemoryStore(), west: new MemoryStore(), east: new MemoryStore() };
  const cache = (region: keyof typeof clocks) =>
    createReplicatedCache({ region, store: stores[region], transport, now: clocks[region] });
  const fast = cache('fast');
  const west = cache('west');
  const east = cache('east');
  // Writes go to each store's outbox; its shipper publishes them.
  const shippers = (['fast', 'west', 'east'] as const).map((region) =>
    startShipper({ region, store: stores[region], transport }),
  );
  const registry = new Registry();
  const relay = await startRelay({
    region: 'west',
    sources: ['fast', 'west', 'east'],
    store: stores.west,
    transport,
    registry,
    now: clocks.west,
    maxClockOffsetMs: 500,
    keyspaces: [{ prefix: 'user:', mode: 'replicate' }],
  });
  t.after(async () => {
    await relay.close();
    await Promise.all(shippers.map((s) => s.close()));
    await transport.close();
  });

  // Canaries are never held: the lag probe measures the offset from them.
  await fast.set(canaryKey('fast'), JSON.stringify({ at: clocks.fast() }));
  await eventually('the fast canary arrives', async () => (await west.get(canaryKey('fast'))) !== null);

  await fast.set('user:1', 'from the future');
  await east.set('user:2', 'from the east');
  await eventually('east is not held up', async () => (await west.get('user:2')) === 'from the east');
  await eventually('the fast event is held', () => relay.stats().clockAhead === 1);
  assert.equal(await west.get('user:1'), null, 'held: not applied');
  // Redelivered many times while held, counted once.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await metricValue(registry, 'meridian_replication_clock_ahead_total', { source: 'fast' }), 1);

  westShiftMs = 5000; // west's clock catches up
  await eventually(
    'applied once within the offset',
    async () => (await west.get('user:1')) === 'from the future',
  );
  assert.equal(relay.stats().clockAhead, 1);

  // Conflicts: east's writes lose to newer ones west made while the link was cut.
  transport.cut('east', 'west');
  await east.set('user:3', 'old');
  await east.set('user:3', 'older still loses');
  await east.set('plain', 'old');
  await west.set('user:3', 'new');
  await west.set('plain', 'new');
  transport.heal('east', 'west');
  await eventually(
    'east caught up',
    async () => (await stores.east.outboxDepth()) === 0 && (await transport.queueDepth('east', 'west')) === 0,
  );
  assert.equal(await west.get('user:3'), 'new');
  const conflicts = (keyspace: string) =>
    metricValue(registry, 'meridian_replication_conflicts_total', { source: 'east', keyspace });
  assert.equal(await conflicts('user:'), 2);
  assert.equal(await conflicts('default'), 1);
  assert.deepEqual(relay.conflictTopKeys(), [
    { key: 'user:3', count: 2, error: 0 },
    { key: 'plain', count: 1, error: 0 },
  ]);
});
