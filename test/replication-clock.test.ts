// Two regions on real Redis + NATS, us-east-1's clock 5 s ahead: what the
// maximum clock offset (replication.maxClockOffset) does about it.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { Registry } from 'prom-client';
import { replicationSchema } from '../src/config/schema/replication.js';
import { parseHlc } from '../src/replication/hlc.js';
import { type RegionReplication, startRegionReplication } from '../src/replication/region.js';
import { eventually, startTwoRegionsOnNats, type TwoRegionsOnNats } from './replication-helpers.js';

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const AHEAD_MS = 5000;
const MAX_OFFSET_MS = 500;

async function metricValue(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = await registry.getSingleMetric(name)?.get();
  const hit = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return hit?.value ?? 0;
}

async function startRegions(t: TestContext, servers: TwoRegionsOnNats, stream: string, probe: boolean) {
  const config = replicationSchema.parse({
    transport: 'nats',
    nats: { servers: [servers.nats.url], stream },
    regions: [
      { region: EAST, redis: servers.east.url },
      { region: WEST, redis: servers.west.url },
    ],
    keyPrefix: `${stream}:`,
    maxClockOffset: `${MAX_OFFSET_MS}ms`,
    probe: { interval: '100ms', poll: '10ms' },
  });
  const start = (region: string, now?: () => number) => {
    const registry = new Registry();
    return startRegionReplication({ config, region, registry, probe, now }).then((r) => ({ r, registry }));
  };
  const east = await start(EAST, () => Date.now() + AHEAD_MS);
  const west = await start(WEST);
  t.after(async () => {
    await east.r.close();
    await west.r.close();
  });
  return { east, west };
}

const valueIn = (region: RegionReplication, key: string) => region.cache.get(key);

test('a region whose clock runs 5 s ahead', async (t) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;

  await t.test(
    'not measured (no probe): its event is held at the other region, which keeps its own later write meanwhile',
    async (t) => {
      const { east, west } = await startRegions(t, servers, 'CLK_HOLD', false);
      await east.r.cache.set('k', 'east, 5 s ahead');
      const stamp = parseHlc((await east.r.redis.hget('CLK_HOLD:k', 'h')) ?? '');
      assert.ok(stamp);
      await eventually('west holds the event', async () => west.r.relay.stats().clockAhead === 1);
      // The hold ends when west's clock is within maxClockOffset of east's stamp.
      const holdEnds = stamp.wall - MAX_OFFSET_MS;
      const during = await valueIn(west.r, 'k');
      assert.ok(during === null || Date.now() >= holdEnds, 'held, not applied');
      // One second later by west's own clock, west writes the same key.
      await new Promise((r) => setTimeout(r, 1000));
      await west.r.cache.set('k', 'west, 1 s later');
      const seen = await valueIn(west.r, 'k');
      assert.ok(seen === 'west, 1 s later' || Date.now() >= holdEnds, `west read ${seen} during the hold`);
      // After the hold, last writer wins by stamp: unmeasured, the fast clock still wins, late.
      await eventually('both converge', async () => {
        const [a, b] = await Promise.all([valueIn(east.r, 'k'), valueIn(west.r, 'k')]);
        return a === b && a === 'east, 5 s ahead';
      });
      assert.ok(Date.now() >= holdEnds, 'not applied before west clock caught up');
      assert.equal(
        await metricValue(west.registry, 'meridian_replication_clock_ahead_total', { source: EAST }),
        1,
      );
      const conflicts = { source: WEST, destination: EAST, keyspace: 'default' };
      assert.equal(await metricValue(east.registry, 'meridian_replication_conflicts_total', conflicts), 1);
      assert.deepEqual(
        east.r.relay.conflictTopKeys().map((k) => [k.key, k.count]),
        [['k', 1]],
      );
    },
  );

  await t.test(
    'measured by the lag probe: its stamps are clamped, so a write 1 s later elsewhere wins',
    async (t) => {
      const { east, west } = await startRegions(t, servers, 'CLK_CLAMP', true);
      await eventually(
        'east is measured ahead',
        async () => (east.r.probe?.clock().aheadOfPeersMs ?? 0) > MAX_OFFSET_MS,
      );
      // Stamps made before the measurement hold east's clock (it never runs back) until the clamped reading passes them.
      await eventually('east stamps from peers time + maxClockOffset', async () => {
        const { clock } = east.r.cache;
        const stamp = parseHlc(clock.tick());
        const reading = clock.physical();
        return stamp !== null && reading.clamped && stamp.wall <= reading.ms;
      });
      await east.r.cache.set('k', 'east, 5 s ahead');
      await new Promise((r) => setTimeout(r, 1000));
      await west.r.cache.set('k', 'west, 1 s later');
      await eventually('both converge on the later write', async () => {
        const [a, b] = await Promise.all([valueIn(east.r, 'k'), valueIn(west.r, 'k')]);
        return a === b && a === 'west, 1 s later';
      });
      assert.ok(
        (await metricValue(east.registry, 'meridian_replication_clock_clamped_total', { region: EAST })) > 0,
      );
      assert.equal(
        await metricValue(west.registry, 'meridian_replication_clock_clamped_total', { region: WEST }),
        0,
      );
      // Lag is read on this region's clock: east's 5 s are not mistaken for lag once measured both ways.
      const eastLag = east.r.probe?.lagMs(WEST) ?? Number.POSITIVE_INFINITY;
      assert.ok(eastLag < AHEAD_MS, `east's lag of west: ${eastLag}`);
      const westView = west.r.probe?.clock().aheadOfPeersMs ?? 0;
      assert.ok(westView < -MAX_OFFSET_MS, `west sees itself behind: ${westView}`);
    },
  );
});
