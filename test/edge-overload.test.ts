// Overload at the edge: admission without a queue (best-effort shed first,
// critical may use the hard cap, 503 with Retry-After), a limit that a light
// load does not wear down, requests bound for another region admitted there,
// and the retry budget that stops a failing region from turning every request into two.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, test } from 'node:test';
import { request } from 'undici';
import {
  appendYaml,
  closeServer,
  echo,
  type Handler,
  holdingOrigin,
  startEdge,
  startOrigin,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const HOST = 'api.example.com';
const SEATTLE = '24.16.0.1';
const servers: Server[] = [];
const edges: TestEdge[] = [];
after(async () => {
  for (const e of edges) await e.close();
  for (const s of servers) await closeServer(s);
});

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await request(url, { headers: { host: HOST, ...headers } });
  await res.body.dump();
  return res;
};

// x-priority is believed from trusted proxies (127.0.0.1 is one here); x-meridian-priority only from signed peers.
test('shedding: best-effort first, then normal, critical last; 503 with Retry-After and no queue', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(
    cfg.file,
    `edge:
  shedding: { adaptive: vegas, initialLimit: 4, minLimit: 4, maxInFlight: 6, bestEffortShare: 0.5, retryAfter: 2, priorityHeader: x-priority }
  services:
    - name: api
      priorities: [{ pathPrefix: /batch, class: best-effort }]`,
  );
  const hold = holdingOrigin();
  for (const p of [9101, 9102, 9201, 9202]) servers.push(await startOrigin(cfg.port(p), hold.handler));
  const edge = await startEdge(cfg.file, 'us-east-1');
  edges.push(edge);
  const pending: Promise<unknown>[] = [];
  const occupy = async (n: number, headers: Record<string, string> = {}) => {
    const target = hold.held.length + n;
    for (let i = 0; i < n; i++) pending.push(get(`${edge.url}/hold`, headers));
    assert.ok((await waitFor(() => hold.held.length === target, 5000)) >= 0, `${target} requests held`);
  };

  await occupy(2);
  const be = await get(`${edge.url}/x`, { 'x-priority': 'best-effort' });
  assert.equal(be.statusCode, 503, 'best-effort shed at half the limit');
  assert.equal(be.headers['retry-after'], '2');
  assert.equal((await get(`${edge.url}/batch/job`)).statusCode, 503, 'route rule makes /batch best-effort');
  await occupy(2);
  assert.equal((await get(`${edge.url}/x`)).statusCode, 503, 'normal shed at the adaptive limit');
  await occupy(2, { 'x-priority': 'critical' });
  assert.equal((await get(`${edge.url}/x`, { 'x-priority': 'critical' })).statusCode, 503, 'hard cap');

  // A burst far over the limit is answered at once, not queued.
  const burst = await Promise.all(Array.from({ length: 30 }, () => get(`${edge.url}/x`)));
  assert.ok(burst.every((r) => r.statusCode === 503));
  assert.equal(hold.held.length, 6);

  hold.release();
  await Promise.all(pending);
  await occupy(1);
  hold.release();
  await Promise.all(pending);
  const metrics = await (await request(`${edge.admin}/metrics`)).body.text();
  assert.match(metrics, /meridian_edge_shed_total\{service="api",edge="us-east-1"\} 34/);
});

test('a light load with noisy latency leaves the limit where it is: a later surge up to it is admitted', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(
    cfg.file,
    'edge:\n  shedding: { adaptive: vegas, initialLimit: 12, minLimit: 2, maxInFlight: 24 }',
  );
  const hold = holdingOrigin();
  let n = 0;
  const noisy: Handler = (req, res) => {
    if (req.url === '/hold') return hold.handler(req, res);
    req.resume();
    setTimeout(() => res.end('ok'), n++ % 2 === 0 ? 0 : 20);
  };
  for (const p of [9101, 9102, 9201, 9202]) servers.push(await startOrigin(cfg.port(p), noisy));
  const edge = await startEdge(cfg.file, 'us-east-1');
  edges.push(edge);
  // Two users one request at a time: about 30 of the limiter's 250 ms windows, never near half the limit.
  const until = Date.now() + 7500;
  const user = async () => {
    while (Date.now() < until) assert.equal((await get(`${edge.url}/light`)).statusCode, 200);
  };
  await Promise.all([user(), user()]);
  assert.equal(edge.edge.runtime.statsSnapshot().limits.api.limit, 12);

  const surge = Array.from({ length: 10 }, () => get(`${edge.url}/hold`));
  const all = await waitFor(() => hold.held.length === 10, 5000);
  hold.release();
  const codes = (await Promise.all(surge)).map((r) => r.statusCode);
  assert.ok(all >= 0, `held ${hold.held.length} of 10: ${codes.join(' ')}`);
  assert.deepEqual(codes, Array(10).fill(200));
});

test('an edge whose own users fill its limit still bridges users of a region with room (admitted there)', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(
    cfg.file,
    'edge:\n  shedding: { adaptive: vegas, initialLimit: 4, minLimit: 4, maxInFlight: 8 }',
  );
  const hold = holdingOrigin();
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), hold.handler));
  for (const p of [9201, 9202]) servers.push(await startOrigin(cfg.port(p), echo));
  const east = await startEdge(cfg.file, 'us-east-1');
  const west = await startEdge(cfg.file, 'us-west-2');
  edges.push(east, west);
  const seen = () => east.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
  assert.ok((await waitFor(seen, 5000)) >= 0);

  const local = Array.from({ length: 4 }, () => get(`${east.url}/hold`));
  assert.ok((await waitFor(() => hold.held.length === 4, 5000)) >= 0, '4 local requests held');
  assert.equal((await get(`${east.url}/x`)).statusCode, 503, 'the limit is full for us-east-1 users');
  const seattle = await Promise.all(
    Array.from({ length: 4 }, () => get(`${east.url}/x`, { 'x-forwarded-for': SEATTLE })),
  );
  assert.deepEqual(
    seattle.map((r) => `${r.statusCode} ${r.headers['x-meridian-region']}`),
    Array(4).fill('200 us-west-2'),
  );
  hold.release();
  await Promise.all(local);
});

test('requests failing over from dead origins leave their slots to the next users: none shed here', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const roomy = `${cfg.file}.west.yaml`;
  copyFileSync(cfg.file, roomy);
  appendYaml(
    cfg.file,
    'edge:\n  shedding: { adaptive: vegas, initialLimit: 2, minLimit: 2, maxInFlight: 8 }',
  );
  const hold = holdingOrigin();
  // Nothing listens on us-east-1's origins: every request fails over to us-west-2, which holds it.
  for (const p of [9201, 9202]) servers.push(await startOrigin(cfg.port(p), hold.handler));
  const east = await startEdge(cfg.file, 'us-east-1');
  const west = await startEdge(roomy, 'us-west-2');
  edges.push(east, west);
  const seen = () => east.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
  assert.ok((await waitFor(seen, 5000)) >= 0);

  const pending: Promise<{ statusCode: number }>[] = [];
  for (let i = 1; i <= 5; i++) {
    pending.push(get(`${east.url}/x${i}`));
    const held = await waitFor(() => hold.held.length === i, 5000);
    if (held < 0) break;
  }
  hold.release();
  const codes = (await Promise.all(pending)).map((r) => r.statusCode);
  assert.deepEqual(codes, Array(5).fill(200));
});

test('retry budget: with every local answer a 503, at most 20 % of requests are retried in us-west-2', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(cfg.file, 'edge:\n  retry: { budgetPercent: 20, minPerSecond: 0 }');
  for (const p of [9101, 9102]) {
    servers.push(
      await startOrigin(cfg.port(p), (req, res) => {
        req.resume();
        res.writeHead(503).end('overloaded');
      }),
    );
  }
  for (const p of [9201, 9202]) servers.push(await startOrigin(cfg.port(p), echo));
  const east = await startEdge(cfg.file, 'us-east-1');
  const west = await startEdge(cfg.file, 'us-west-2');
  edges.push(east, west);
  const seen = () => east.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
  assert.ok((await waitFor(seen, 5000)) >= 0);

  const regions: string[] = [];
  let attempts = '';
  for (let i = 0; i < 50; i++) {
    const res = await get(`${east.url}/r${i}`, { 'x-meridian-debug': 'attempts' });
    regions.push(`${res.statusCode} ${res.headers['x-meridian-region']}`);
    if (res.statusCode === 200) attempts = String(res.headers['x-meridian-attempts']);
  }
  const retried = regions.filter((r) => r === '200 us-west-2').length;
  const failed = regions.filter((r) => r === '503 us-east-1').length;
  assert.equal(retried + failed, 50, regions.join(', '));
  assert.ok(retried >= 8 && retried <= 10, `retried ${retried} of 50 (budget 20 %)`);
  assert.match(attempts, /^us-east-1 http:\/\/127\.0\.0\.1:\d+ 503 \d+ms, us-west-2 \S+ 200 \d+ms/);
  const metrics = await (await request(`${east.admin}/metrics`)).body.text();
  assert.match(metrics, /meridian_edge_retries_total\{result="taken",edge="us-east-1"\} (8|9|10)\n/);
  assert.match(metrics, /meridian_edge_retry_budget_left\{edge="us-east-1"\} 0/);
});
