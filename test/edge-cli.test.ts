// `meridian edge` as a user runs it: two workers behind one port, the ready
// line, the admin port (metrics, fault stage for drills) and a clean SIGTERM.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, test } from 'node:test';
import { request } from 'undici';
import { appendYaml, closeServer, echo, startOrigin } from './edge-fixtures.js';
import { runCli } from './helpers/cli.js';
import { startEdgeWorkers } from './helpers/edge-workers.js';
import { configWithFreePorts } from './helpers/ports.js';

const HOST = 'api.example.com';
const servers: Server[] = [];
after(async () => {
  for (const s of servers) await closeServer(s);
});

const get = async (url: string) => {
  const res = await request(url, { headers: { host: HOST } });
  await res.body.dump();
  return res;
};

test('meridian edge with two workers: ready line, fault stage on the admin port, metrics, SIGTERM', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  // Drills may set faults: the operator token reaches the edge by environment, never argv.
  appendYaml(cfg.file, 'edge:\n  admin: { faults: true, token: "env:MERIDIAN_EDGE_ADMIN_TOKEN" }');
  const token = 'cli-test-admin-token-0123456789';
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), echo));
  const { child, ready, stderr, exited } = await startEdgeWorkers(cfg.file, {
    MERIDIAN_EDGE_ADMIN_TOKEN: token,
  });
  assert.equal(ready.ready, true);
  assert.equal(ready.part, 'edge');
  assert.equal(ready.region, 'us-east-1');
  assert.equal(ready.workers, 2);
  const data = `http://${ready.listen}`;
  const admin = `http://${ready.admin}`;

  const ok = await get(`${data}/x`);
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.headers['x-meridian-region'], 'us-east-1');

  const bad = await request(`${admin}/fault`, { method: 'POST', headers: auth, body: '{"errorRate": 7}' });
  assert.equal(bad.statusCode, 400);
  assert.match(await bad.body.text(), /errorRate/);
  const set = await request(`${admin}/fault`, { method: 'POST', headers: auth, body: '{"errorRate": 1}' });
  assert.equal(set.statusCode, 200);
  await set.body.dump();
  for (let i = 0; i < 6; i++)
    assert.equal((await get(`${data}/f${i}`)).statusCode, 502, 'every worker fails');
  const off = await request(`${admin}/fault`, { method: 'DELETE', headers: auth });
  await off.body.dump();
  assert.equal((await get(`${data}/y`)).statusCode, 200);

  const metrics = await (await request(`${admin}/metrics`)).body.text();
  assert.match(
    metrics,
    /meridian_edge_requests_total\{service="-",region="us-east-1",status_class="5xx",outcome="fault",edge="us-east-1"\} 6/,
  );
  assert.match(
    metrics,
    /meridian_edge_origin_healthy\{service="api",origin="http:\/\/127\.0\.0\.1:\d+",edge="us-east-1"\} 1/,
  );
  const health = (await (await request(`${admin}/meridian/health`)).body.json()) as { workers: number };
  assert.equal(health.workers, 2);

  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr());
});

test('meridian edge explains an unknown region and exits 1', () => {
  const r = runCli([
    'edge',
    '--config',
    'examples/two-regions.yaml',
    '--region',
    'nowhere',
    '--listen',
    '127.0.0.1:0',
  ]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /meridian: no region "nowhere"; known: us-east-1, us-west-2/);
});
