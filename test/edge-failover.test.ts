// Done-when of issue 4: two regions on loopback; under steady GET load every
// origin of us-east-1 is killed at once. Clients see no failed request
// (cross-region retry and failover), the edge marks the origins down within
// 3 s, and they come back once restarted.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import {
  getJson,
  killHard,
  type LoadResult,
  spawnOrigin,
  startEdge,
  steadyLoad,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const HOST = 'api.example.com';

test('all us-east-1 origins die under load: zero failed requests, down within 3 s, back after restart', async (t) => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const origins = new Map<number, ChildProcess>();
  for (const p of [9101, 9102, 9201, 9202]) origins.set(p, await spawnOrigin(cfg.port(p), `o${p}`));
  const edges: TestEdge[] = [await startEdge(cfg.file, 'us-east-1'), await startEdge(cfg.file, 'us-west-2')];
  after(async () => {
    for (const e of edges) await e.close();
    for (const o of origins.values()) await killHard(o);
  });
  const [east] = edges;
  const originsDown = async () => {
    const h = await getJson(`${east.url}/meridian/health`);
    return h.body.origins.every((o: { healthy: boolean }) => !o.healthy);
  };

  // Steady state first: east has seen west's edge answer (east started before it).
  const peerUp = await waitFor(
    async () => (await getJson(`${east.url}/meridian/health`)).body.peers['us-west-2'] === true,
    10_000,
  );
  assert.ok(peerUp >= 0, 'east reaches the us-west-2 edge');

  let stopLoad!: () => void;
  const live: LoadResult = { ok: 0, failed: [], byRegion: new Map() };
  const load = steadyLoad(east.url, HOST, 8, new Promise<void>((r) => (stopLoad = r)), live);
  // Counts, not times: the machine may be slow, the load must still be steady around the kill.
  assert.ok((await waitFor(() => live.ok >= 40, 30_000)) >= 0, 'load is running');
  await Promise.all([9101, 9102].map((p) => killHard(origins.get(p)!)));
  const downAfter = await waitFor(originsDown, 10_000);
  const okAtDown = live.ok;
  assert.ok((await waitFor(() => live.ok >= okAtDown + 40, 30_000)) >= 0, 'load went on after the kill');
  stopLoad();
  const result = await load;
  t.diagnostic(
    `${result.ok} requests, by region ${JSON.stringify([...result.byRegion])}; down after ${downAfter} ms`,
  );

  assert.ok(result.ok >= 80, `load ran (${result.ok} requests)`);
  assert.deepEqual(result.failed, [], 'no client saw a failure');
  assert.ok((result.byRegion.get('us-west-2') ?? 0) > 0, 'some requests were served by us-west-2');
  assert.ok(downAfter >= 0, 'origins marked down');
  assert.ok(downAfter <= 3000, `origins marked down ${downAfter} ms after the kill (must be <= 3000)`);

  for (const p of [9101, 9102]) origins.set(p, await spawnOrigin(cfg.port(p), `o${p}`));
  const upAfter = await waitFor(async () => {
    const h = await getJson(`${east.url}/meridian/health`);
    return h.body.origins.every((o: { healthy: boolean }) => o.healthy);
  }, 15_000);
  assert.ok(upAfter >= 0, 'origins came back after restart');
  const res = await getJson(`${east.url}/after`, { host: HOST });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-meridian-region'], 'us-east-1');
});
