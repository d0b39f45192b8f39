// Replication over the in-process transport between two real Redis servers,
// plus what only it can do here: cut and heal a link with relays running.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { converged, diffRegions } from '../src/replication/converge.js';
import { createMemoryTransport } from '../src/replication/memory-transport.js';
import { startLagProbe } from '../src/replication/probe.js';
import { requireProgram } from './helpers/programs.js';
import { eventually, startRedis } from './replication-helpers.js';
import { EAST, pairOfRegions, replicationSuite, WEST } from './replication-suite.js';

test('replication over the in-process transport', async (t) => {
  const redisServer = requireProgram(t, 'redis-server');
  if (!redisServer) return;
  const [a, b] = await Promise.all([startRedis(redisServer), startRedis(redisServer)]);
  t.after(() => Promise.all([a.stop(), b.stop()]));
  await replicationSuite(t, [a.url, b.url], async () => {
    const shared = createMemoryTransport({ retryDelayMs: 50 });
    return { east: shared, west: shared, close: () => shared.close() };
  });

  await t.test('a cut link shows as growing probe lag; after the heal the regions converge', async () => {
    const east = new Redis(a.url);
    const west = new Redis(b.url);
    await Promise.all([east.flushall(), west.flushall()]);
    const link = createMemoryTransport({ retryDelayMs: 50 });
    const { cacheEast, cacheWest, relayInto } = pairOfRegions(east, west, {
      east: link,
      west: link,
      close: link.close,
    });
    const relays = [await relayInto(EAST), await relayInto(WEST)];
    const regions = [EAST, WEST];
    const probeWest = startLagProbe({ cache: cacheWest, regions, intervalMs: 100, pollMs: 10 });
    const probeEast = startLagProbe({ cache: cacheEast, regions, intervalMs: 100, pollMs: 10 });
    await eventually('west sees east canaries', async () => (probeWest.lagMs(EAST) ?? Infinity) < 100);

    link.cut(EAST, WEST);
    await cacheEast.set('during', 'the cut');
    await cacheWest.set('other', 'side');
    await eventually('lag into west climbs', async () => (probeWest.lagMs(EAST) ?? 0) > 500);
    assert.equal(await cacheWest.get('during'), null);
    assert.ok((probeEast.lagMs(WEST) ?? Infinity) < 500, 'the other direction is not cut');
    assert.equal(probeWest.maxLagMs(), probeWest.lagMs(EAST));

    link.heal(EAST, WEST);
    await eventually('lag back down', async () => (probeWest.lagMs(EAST) ?? Infinity) < 300);
    assert.equal(await cacheWest.get('during'), 'the cut');
    probeEast.close();
    probeWest.close();
    await Promise.all(relays.map((r) => r.close()));
    await eventually('converged', async () => converged(await diffRegions(east, west)));
    await link.close();
    east.disconnect();
    west.disconnect();
  });
});
