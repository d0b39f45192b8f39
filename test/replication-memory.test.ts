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

  // No absolute lag thresholds: on a loaded machine a canary can take far
  // longer than on a quiet one. The lag is compared with what this run
  // measured before the cut, and the cut and heal are shown by what arrives.
  await t.test('a cut link shows as growing probe lag; after the heal the regions converge', async () => {
    const east = new Redis(a.url);
    const west = new Redis(b.url);
    await Promise.all([east.flushall(), west.flushall()]);
    const link = createMemoryTransport({ retryDelayMs: 50 });
    const { cacheEast, cacheWest, relayInto, stopShipping } = pairOfRegions(east, west, {
      east: link,
      west: link,
      close: link.close,
    });
    const relays = [await relayInto(EAST), await relayInto(WEST)];
    const regions = [EAST, WEST];
    const intervalMs = 100;
    const probeWest = startLagProbe({ cache: cacheWest, regions, intervalMs, pollMs: 10 });
    const probeEast = startLagProbe({ cache: cacheEast, regions, intervalMs, pollMs: 10 });
    await eventually('west sees east canaries', async () => probeWest.lagMs(EAST) !== null);
    await eventually('east sees west canaries', async () => probeEast.lagMs(WEST) !== null);
    // The baseline: the worst lag over a few canaries with the link up.
    let baseline = 0;
    for (let i = 0; i < 5; i++) {
      baseline = Math.max(baseline, probeWest.lagMs(EAST)!);
      await new Promise((r) => setTimeout(r, intervalMs));
    }

    link.cut(EAST, WEST);
    await cacheEast.set('during', 'the cut');
    // Climbing well past anything seen before the cut: the lag grows with the canary's age.
    const climbed = baseline + 1000;
    await eventually('lag into west climbs', async () => (probeWest.lagMs(EAST) ?? 0) > climbed);
    assert.equal(await cacheWest.get('during'), null, 'nothing crosses the cut link');
    assert.ok((await link.queueDepth(EAST, WEST)) > 0, 'the events wait in the transport');
    // The other direction still flows while this one is cut.
    await cacheWest.set('other', 'side');
    await eventually('west to east still flows', async () => (await cacheEast.get('other')) === 'side');
    await eventually(
      'the uncut direction lags less',
      async () => probeEast.lagMs(WEST)! < probeWest.lagMs(EAST)!,
    );
    // One source: the worst lag is east's (read one after the other, so it may have grown a little).
    const lagEast = probeWest.lagMs(EAST)!;
    const worst = probeWest.maxLagMs()!;
    assert.ok(worst >= lagEast && worst - lagEast < 1000, `maxLagMs ${worst} vs lagMs ${lagEast}`);

    const peak = probeWest.lagMs(EAST)!;
    link.heal(EAST, WEST);
    await eventually('the queued write crossed', async () => (await cacheWest.get('during')) === 'the cut');
    // Once fresh canaries arrive the lag falls back (without a heal it would only keep growing).
    await eventually('lag back down', async () => (probeWest.lagMs(EAST) ?? Infinity) < peak - 500);
    probeEast.close();
    probeWest.close();
    // With the relays still running: a canary written just before the close is still on its way.
    await eventually('converged', async () => converged(await diffRegions(east, west)));
    await Promise.all(relays.map((r) => r.close()));
    await stopShipping();
    await link.close();
    east.disconnect();
    west.disconnect();
  });
});
