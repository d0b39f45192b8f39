// Which failed requests the edge retries in another region: statuses per
// service, and idempotent requests with a small body (read first, then sent
// again whole); everything else reaches the client as the origin answered.
// The client's side runs in process (edge.request()); origins and the
// us-west-2 edge are real servers.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import {
  appendYaml,
  closeServer,
  echo,
  type InProcessEdge,
  inProcessEdge,
  startEdge,
  startOrigin,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const servers: Server[] = [];
const edges: (TestEdge | InProcessEdge)[] = [];
let east: InProcessEdge;
/** What the failing us-east-1 origins answer next. */
let eastStatus = 500;

before(async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(
    cfg.file,
    [
      'edge:',
      '  retry: { bufferBodyBytes: 1024 }',
      '  services:',
      '    - { name: api, idempotentMethods: [PUT], retryStatuses: [500, 502, 503, 504] }',
    ].join('\n'),
  );
  for (const p of [9101, 9102]) {
    servers.push(
      await startOrigin(cfg.port(p), (req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(eastStatus).end('broken build'));
      }),
    );
  }
  for (const p of [9201, 9202]) servers.push(await startOrigin(cfg.port(p), echo));
  east = await inProcessEdge(cfg.file, 'us-east-1');
  edges.push(east, await startEdge(cfg.file, 'us-west-2'));
  const seen = () => east.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
  assert.ok((await waitFor(seen, 5000)) >= 0, 'east reaches the us-west-2 edge');
});

after(async () => {
  for (const e of edges) await e.close();
  for (const s of servers) await closeServer(s);
});

async function send(
  method: string,
  body?: string,
  host = 'api.example.com',
  extra: Record<string, string> = {},
) {
  const res = await east.request(`http://${host}/items/1`, { method, headers: extra, body });
  return { status: res.status, region: res.headers['x-meridian-region'], text: res.text() };
}

test('a 500 is retried in us-west-2 when the service lists it in retryStatuses', async () => {
  eastStatus = 500;
  const r = await send('GET');
  assert.deepEqual([r.status, r.region], [200, 'us-west-2']);
});

test('an idempotent PUT with a small body is retried with the whole body', async () => {
  eastStatus = 503;
  const r = await send('PUT', 'title 42');
  assert.deepEqual([r.status, r.region], [200, 'us-west-2']);
  const echoed = JSON.parse(r.text);
  assert.equal(echoed.method, 'PUT');
  assert.equal(echoed.received, 'title 42'.length, 'the retried request carried the body');
});

test('a POST (not idempotent) is not retried: the client sees the origin answer', async () => {
  eastStatus = 503;
  const r = await send('POST', 'title 42');
  assert.deepEqual([r.status, r.region], [503, 'us-east-1']);
  assert.equal(r.text, 'broken build');
});

test('a POST with Idempotency-Key is retried like an idempotent request, key and body unchanged', async () => {
  eastStatus = 503;
  const r = await send('POST', 'title 42', undefined, { 'idempotency-key': 'k-503' });
  assert.deepEqual([r.status, r.region], [200, 'us-west-2']);
  const echoed = JSON.parse(r.text);
  assert.equal(echoed.headers['idempotency-key'], 'k-503');
  assert.equal(echoed.received, 'title 42'.length);
});

test('a keyed POST whose body is over bufferBodyBytes streams and is not retried', async () => {
  eastStatus = 503;
  const r = await send('POST', 'x'.repeat(4096), undefined, { 'idempotency-key': 'k-big' });
  assert.deepEqual([r.status, r.region], [503, 'us-east-1']);
});

test('a PUT whose body is over bufferBodyBytes streams and is not retried', async () => {
  eastStatus = 503;
  const r = await send('PUT', 'x'.repeat(4096));
  assert.deepEqual([r.status, r.region], [503, 'us-east-1']);
});

test("the report's originErrorRate shows what the origins did; errorRate only what clients got", async () => {
  eastStatus = 500;
  east.edge.collect(); // start a fresh interval
  for (let i = 0; i < 5; i++) assert.equal((await send('GET')).status, 200, 'retried in us-west-2');
  const report = east.edge.collect();
  assert.equal(report.errorRate, 0, 'every client got a 200');
  assert.equal(report.originErrorRate, 1, "every attempt at us-east-1's origins failed");
  assert.ok((report.originRequestsPerS ?? 0) > 0);
  // The origins' own p99 leaves out the retry in us-west-2 that every client waited for.
  assert.equal(typeof report.originP99Ms, 'number');
  assert.ok(report.originP99Ms! <= report.p99Ms, `${report.originP99Ms} <= ${report.p99Ms}`);
});
