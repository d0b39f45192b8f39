// Control serves the dashboard's files at / and /assets/*, and the read-only
// routes the page uses; tested in process with inject().
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { loadConfig } from '../src/config/index.js';
import { startControl } from '../src/control/server.js';
import { createLogger } from '../src/log.js';
import { TOKENS } from './dashboard-deployment.js';
import { configWithFreePorts } from './helpers/ports.js';
import { ensureWebBuilt } from './helpers/web.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('dashboard routes: page, assets, session and history', async (t) => {
  ensureWebBuilt();
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendFileSync(
    cfg.file,
    `control:
  store: { type: sqlite, file: ${join(cfg.dir, 'control.db')} }
  tokens:
    - { name: olivia, role: operator, token: ${TOKENS.operator} }
    - { name: victor, role: viewer, token: ${TOKENS.viewer} }
    - { name: edges, role: agent, token: ${TOKENS.agent}, regions: ["*"] }
`,
  );
  const control = await startControl({
    config: loadConfig(cfg.file),
    log: createLogger('control', 'silent'),
    listen: '127.0.0.1:0',
    env: {},
  });
  t.after(() => control.close());
  const app = control.app;

  const cases = [
    { name: 'page without a token', url: '/', headers: {}, status: 200, type: /text\/html/ },
    { name: 'script', url: '/assets/app.js', headers: {}, status: 200, type: /javascript/ },
    { name: 'atlas', url: '/assets/atlas/states-10m.json', headers: {}, status: 200, type: /json/ },
    { name: 'no escape from web/dist', url: '/assets/..%2F..%2Fpackage.json', headers: {}, status: 404 },
    { name: 'no escape, dot segments', url: '/assets/%2e%2e/index.html', headers: {}, status: 404 },
    { name: 'session without a token', url: '/v1/dashboard/session', headers: {}, status: 401 },
    {
      name: 'session for an agent',
      url: '/v1/dashboard/session',
      headers: bearer(TOKENS.agent),
      status: 403,
    },
    {
      name: 'session for a viewer',
      url: '/v1/dashboard/session',
      headers: bearer(TOKENS.viewer),
      status: 200,
    },
    { name: 'history without a token', url: '/v1/dashboard/history', headers: {}, status: 401 },
  ];
  for (const c of cases) {
    const res = await app.inject({ method: 'GET', url: c.url, headers: c.headers });
    assert.equal(res.statusCode, c.status, `${c.name}: ${res.body.slice(0, 200)}`);
    if (c.type) assert.match(String(res.headers['content-type']), c.type, c.name);
  }

  const page = await app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'gzip' } });
  assert.equal(page.headers['content-encoding'], 'gzip');
  assert.match(gunzipSync(page.rawPayload).toString(), /<script type="module" src="assets\/app.js">/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);

  const session = await app.inject({
    method: 'GET',
    url: '/v1/dashboard/session',
    headers: bearer(TOKENS.operator),
  });
  assert.deepEqual(
    { name: session.json().name, role: session.json().role, maxLoad: session.json().gates.maxLoad },
    { name: 'olivia', role: 'operator', maxLoad: 0.9 },
  );

  // An accepted edge report shows up in the next samples, with the fields the charts need.
  const report = {
    region: 'us-west-2',
    at: Date.now(),
    origins: [{ url: 'http://127.0.0.1:1', healthy: true }],
    requestsPerS: 42,
    errorRate: 0.01,
    p99Ms: 80,
    load: 40,
    capacity: 1000,
    demandByHome: { 'us-west-2': 40 },
    peers: { 'us-east-1': true },
    replicationLagMs: 70,
  };
  const posted = await app.inject({
    method: 'POST',
    url: '/v1/reports',
    headers: bearer(TOKENS.agent),
    payload: report,
  });
  assert.equal(posted.statusCode, 202, posted.body);
  const since = Date.now() - 1;
  let sample: unknown;
  for (let i = 0; i < 50 && !sample; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const res = await app.inject({
      method: 'GET',
      url: `/v1/dashboard/history?since=${since}`,
      headers: bearer(TOKENS.viewer),
    });
    sample = res
      .json()
      .samples.at(-1)
      ?.regions.find((r: { id: string }) => r.id === 'us-west-2');
  }
  assert.deepEqual(sample, {
    id: 'us-west-2',
    requestsPerS: 42,
    load: 40,
    capacity: 1000,
    errorRate: 0.01,
    p99Ms: 80,
    replicationLagMs: 70,
  });
});
