import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import type { ControlServer } from '../src/control/server.js';
import { api, report, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { requireProgram } from './helpers/programs.js';

let control: ControlServer;
before(async () => {
  control = await startTestControl();
});
after(async () => {
  await control.close();
});

const refusals = [
  { name: 'no token', token: undefined, status: 401, code: 'UNAUTHORIZED', message: /missing bearer token/ },
  {
    name: 'wrong token',
    token: 'not-a-token-at-all-000',
    status: 401,
    code: 'UNAUTHORIZED',
    message: /unknown bearer token/,
  },
  {
    name: 'viewer token',
    token: TOKENS.viewer,
    status: 403,
    code: 'FORBIDDEN',
    message: /role viewer; setting a dial needs operator/,
  },
  { name: 'agent token', token: TOKENS.agent, status: 403, code: 'FORBIDDEN', message: /role agent/ },
];

for (const r of refusals) {
  test(`a dial change with ${r.name} is refused and changes nothing`, async () => {
    const dials = async () =>
      ((await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as { dial: number }[]).map(
        (x) => x.dial,
      );
    const byPeople = async () =>
      (
        (await api(control.url, 'GET', '/v1/audit?limit=50', TOKENS.viewer)).json.entries as { who: string }[]
      ).filter((e) => e.who !== 'control');
    const [dialsBefore, auditBefore] = [await dials(), await byPeople()];
    const res = await api(control.url, 'PUT', '/v1/regions/us-east-1/dial', r.token, {
      dial: 10,
      reason: 'x',
    });
    assert.equal(res.status, r.status);
    assert.equal(res.json.error?.code, r.code);
    assert.match(res.json.error?.message ?? '', r.message);
    assert.deepEqual(await dials(), dialsBefore);
    assert.deepEqual(await byPeople(), auditBefore);
  });
}

test('an evacuation with a viewer token is refused; a dry run is allowed', async () => {
  const body = { kind: 'evacuate', region: 'us-east-1', steps: [50, 0], stepIntervalMs: 1000 };
  const refused = await api(control.url, 'POST', '/v1/operations', TOKENS.viewer, body);
  assert.equal(refused.status, 403);
  const dry = await api(control.url, 'POST', '/v1/operations', TOKENS.viewer, { ...body, dryRun: true });
  assert.equal(dry.status, 200);
  assert.equal((dry.json.operation as unknown) ?? null, null);
  assert.equal((dry.json.plan as { steps: unknown[] }).steps.length, 2);
});

test('an operator dial change makes a new snapshot version and an audit entry', async () => {
  const before = await api(control.url, 'GET', '/v1/snapshot', TOKENS.agent);
  const res = await api(control.url, 'PUT', '/v1/regions/us-west-2/dial', TOKENS.operator, {
    dial: 80,
    reason: 'test',
  });
  assert.equal(res.status, 200);
  assert.equal(res.json.version, (before.json.version as number) + 1);
  const audit = await api(control.url, 'GET', '/v1/audit?limit=1', TOKENS.viewer);
  const entry = (audit.json.entries as Record<string, unknown>[])[0];
  assert.deepEqual(
    { who: entry.who, action: entry.action, target: entry.target, reason: entry.reason },
    { who: 'ops', action: 'dial', target: 'us-west-2', reason: 'test' },
  );
  const old = await api(control.url, 'GET', `/v1/snapshots/${before.json.version}`, TOKENS.viewer);
  assert.deepEqual(old.json, before.json, 'the old snapshot is unchanged');
  await api(control.url, 'PUT', '/v1/regions/us-west-2/dial', TOKENS.operator, { dial: 100, reason: 'back' });
});

test('bad input gets 400 with the path of the problem', async () => {
  const dial = await api(control.url, 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, { dial: 150 });
  assert.equal(dial.status, 400);
  assert.equal(dial.json.error?.code, 'BAD_REQUEST');
  const unknown = await api(control.url, 'PUT', '/v1/regions/nowhere/dial', TOKENS.operator, { dial: 50 });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error?.code, 'UNKNOWN_REGION');
  const bad = await api(control.url, 'POST', '/v1/reports', TOKENS.agent, {
    ...report('us-east-1'),
    errorRate: 7,
  });
  assert.equal(bad.status, 400);
});

test('reports need the agent role', async () => {
  assert.equal(
    (await api(control.url, 'POST', '/v1/reports', TOKENS.agent, report('us-east-1'))).status,
    202,
  );
  assert.equal(
    (await api(control.url, 'POST', '/v1/reports', TOKENS.operator, report('us-east-1'))).status,
    403,
  );
});

test('an operator aborts a running operation where it is; a viewer may not', async () => {
  const started = await api(control.url, 'POST', '/v1/operations', TOKENS.operator, {
    kind: 'evacuate',
    region: 'us-west-2',
    steps: [50, 0],
    stepIntervalMs: 60_000,
    reason: 'abort test',
  });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const id = (started.json.operation as { id: string }).id;
  const west = async () =>
    (
      (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as {
        id: string;
        dial: number;
      }[]
    ).find((r) => r.id === 'us-west-2')!.dial;
  await waitFor(async () => (await west()) === 50, 5000);
  const second = await api(control.url, 'POST', '/v1/operations', TOKENS.operator, {
    kind: 'restore',
    region: 'us-east-1',
  });
  assert.equal(second.status, 409, 'one operation at a time');
  assert.equal((await api(control.url, 'POST', `/v1/operations/${id}/abort`, TOKENS.viewer, {})).status, 403);
  const aborted = await api(control.url, 'POST', `/v1/operations/${id}/abort`, TOKENS.operator, {
    reason: 'enough',
  });
  assert.equal(aborted.status, 200);
  assert.equal((aborted.json.operation as { status: string }).status, 'aborted');
  assert.equal(await west(), 50, 'the dial stays at the last applied step');
  await api(control.url, 'PUT', '/v1/regions/us-west-2/dial', TOKENS.operator, { dial: 100 });
});

test('the pre-check refuses an evacuation with the numbers when the receiver lacks headroom', async () => {
  for (let i = 0; i < 3; i++) {
    await api(
      control.url,
      'POST',
      '/v1/reports',
      TOKENS.agent,
      report('us-east-1', { load: 900, demandByHome: { 'us-east-1': 900 } }),
    );
    await api(
      control.url,
      'POST',
      '/v1/reports',
      TOKENS.agent,
      report('us-west-2', { load: 500, demandByHome: { 'us-west-2': 500 } }),
    );
  }
  await waitFor(
    async () => {
      await api(
        control.url,
        'POST',
        '/v1/reports',
        TOKENS.agent,
        report('us-east-1', { load: 900, demandByHome: { 'us-east-1': 900 } }),
      );
      await api(
        control.url,
        'POST',
        '/v1/reports',
        TOKENS.agent,
        report('us-west-2', { load: 500, demandByHome: { 'us-west-2': 500 } }),
      );
      const regions = (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as {
        demand: number;
      }[];
      return regions[0].demand === 900 && regions[1].demand === 500;
    },
    8000,
    200,
  );
  const plan = { kind: 'evacuate', region: 'us-east-1', steps: [50, 0] };
  const dry = await api(control.url, 'POST', '/v1/operations', TOKENS.operator, { ...plan, dryRun: true });
  const p = dry.json.plan as { ok: boolean; moved: number; headroom: number; needed: number };
  assert.equal(p.ok, false);
  const res = await api(control.url, 'POST', '/v1/operations', TOKENS.operator, plan);
  assert.equal(res.status, 409);
  assert.match(
    res.json.error?.message ?? '',
    /refused: receivers have \d+ req\/s of headroom; moving \d+ req\/s needs \d+/,
  );
});

test('OpenAPI document lists every route with its roles; metrics are Prometheus text', async () => {
  const doc = (await api(control.url, 'GET', '/openapi.json')).json as {
    openapi: string;
    paths: Record<string, Record<string, { 'x-roles'?: string[] }>>;
  };
  assert.equal(doc.openapi, '3.1.0');
  for (const p of [
    '/v1/status',
    '/v1/snapshots/stream',
    '/v1/reports',
    '/v1/regions/{region}/dial',
    '/v1/operations',
    '/v1/audit',
  ])
    assert.ok(doc.paths[p], p);
  assert.deepEqual(doc.paths['/v1/regions/{region}/dial'].put['x-roles'], ['operator', 'admin']);
  const metrics = await (await fetch(`${control.url}/metrics`)).text();
  assert.match(metrics, /meridian_control_snapshot_version \d+/);
  assert.match(
    metrics,
    /meridian_control_http_requests_total\{route="\/v1\/regions\/:region\/dial",status="403"\}/,
  );
});

test('TLS when configured', async (t) => {
  const openssl = requireProgram(t, 'openssl');
  if (!openssl) return;
  const dir = mkdtempSync(join(tmpdir(), 'meridian-tls-'));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const r = spawnSync(openssl, [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
    ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  const secure = await startTestControl({ tls: { cert, key } });
  try {
    assert.match(secure.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await request(`${secure.url}/v1/status`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
      dispatcher: new Agent({ connect: { ca: readFileSync(cert) } }),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { isLeader: boolean }).isLeader, true);
  } finally {
    await secure.close();
  }
});
