// The edge admin port, tried as an attacker on the host would: POST/DELETE
// /fault are off unless edge.admin.faults; then they need the operator token
// and a JSON body (a browser form cannot inject faults), and every call,
// accepted or refused, leaves an audit line. Refused calls leave traffic alone.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { loadConfig } from '../src/config/index.js';
import { Edge } from '../src/edge/edge.js';
import { FileSnapshotSource } from '../src/feed/file-source.js';
import { appendYaml, closeServer, echo, sharedGeo, startOrigin } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const HOST = 'api.example.com';
const TOKEN = 'edge-admin-token-for-tests-0123';
const ENV = 'MERIDIAN_TEST_EDGE_ADMIN_TOKEN';
process.env[ENV] = TOKEN;

const servers: Server[] = [];
after(async () => {
  for (const s of servers) await closeServer(s);
});

/** An edge in this process whose log lines are kept for the test to read. */
async function edgeWithLog(yaml: string) {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  if (yaml !== '') appendYaml(cfg.file, yaml);
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), echo));
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const source = new FileSnapshotSource(cfg.file, { intervalMs: 200 });
  await source.start();
  const edge = new Edge({
    config: loadConfig(cfg.file),
    region: 'us-east-1',
    source,
    geo: await sharedGeo(),
    log,
    admin: '127.0.0.1:0',
  });
  const ready = await edge.start();
  return {
    data: `http://${ready.listen}`,
    admin: `http://${ready.admin}`,
    audit: () => lines.filter((l) => l.audit === 'edge-admin'),
    async close() {
      await edge.close();
      await source.close();
    },
  };
}

async function call(url: string, method: string, headers: Record<string, string> = {}, body?: string) {
  const res = await request(url, { method: method as 'POST', headers, body });
  return { status: res.statusCode, text: await res.body.text() };
}

async function trafficStatus(data: string): Promise<number> {
  const res = await request(`${data}/x`, { headers: { host: HOST } });
  await res.body.dump();
  return res.statusCode;
}

const FAULT = '{"errorRate": 1}';

test('faults off (the default): POST and DELETE /fault are refused, GET still reads', async () => {
  const e = await edgeWithLog('');
  try {
    const json = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    const post = await call(`${e.admin}/fault`, 'POST', json, FAULT);
    assert.equal(post.status, 403);
    assert.match(post.text, /edge\.admin\.faults/);
    assert.equal((await call(`${e.admin}/fault`, 'DELETE', json)).status, 403);
    const read = await call(`${e.admin}/fault`, 'GET');
    assert.equal(read.status, 200);
    assert.deepEqual(JSON.parse(read.text), { latencyMs: 0, errorRate: 0, blackhole: false });
    assert.equal(await trafficStatus(e.data), 200, 'traffic unaffected');
    assert.equal(e.audit().length, 2, 'both refusals audited');
    assert.ok(e.audit().every((l) => l.outcome === 'refused' && l.status === 403));
  } finally {
    await e.close();
  }
});

test('faults on: no token, a wrong token, text/plain or a form body are refused and change nothing', async () => {
  const e = await edgeWithLog(`edge:\n  admin: { listen: 127.0.0.1:0, faults: true, token: "env:${ENV}" }`);
  try {
    const cases: [string, Record<string, string>, number][] = [
      ['no token', { 'content-type': 'application/json' }, 401],
      [
        'wrong token',
        { 'content-type': 'application/json', authorization: 'Bearer not-the-token-at-all' },
        401,
      ],
      ['basic auth', { 'content-type': 'application/json', authorization: `Basic ${TOKEN}` }, 401],
      ['text/plain', { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` }, 415],
      [
        'a browser form',
        { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${TOKEN}` },
        415,
      ],
      ['no content type', { authorization: `Bearer ${TOKEN}` }, 415],
    ];
    for (const [name, headers, status] of cases) {
      const r = await call(`${e.admin}/fault`, 'POST', headers, FAULT);
      assert.equal(r.status, status, name);
      assert.equal(await trafficStatus(e.data), 200, `${name}: traffic unaffected`);
    }
    const del = await call(`${e.admin}/fault`, 'DELETE', { authorization: 'Bearer wrong-token-0123456789' });
    assert.equal(del.status, 401);
    const read = JSON.parse((await call(`${e.admin}/fault`, 'GET')).text);
    assert.equal(read.errorRate, 0, 'no fault was set');
    const audit = e.audit();
    assert.equal(audit.length, cases.length + 1, 'every refusal audited');
    assert.ok(audit.every((l) => l.outcome === 'refused'));
    assert.ok(!JSON.stringify(audit).includes(TOKEN), 'the token is never logged');
  } finally {
    await e.close();
  }
});

test('faults on: the operator token with a JSON body sets and clears the fault, audited', async () => {
  const e = await edgeWithLog(`edge:\n  admin: { faults: true, token: "env:${ENV}" }`);
  try {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const set = await call(
      `${e.admin}/fault`,
      'POST',
      { ...auth, 'content-type': 'application/json; charset=utf-8' },
      FAULT,
    );
    assert.equal(set.status, 200);
    assert.equal(await trafficStatus(e.data), 502, 'the fault is live');
    assert.equal((await call(`${e.admin}/fault`, 'DELETE', auth)).status, 200);
    assert.equal(await trafficStatus(e.data), 200);
    const audit = e.audit();
    assert.deepEqual(
      audit.map((l) => [l.method, l.outcome, l.status]),
      [
        ['POST', 'accepted', 200],
        ['DELETE', 'accepted', 200],
      ],
    );
    assert.ok(!JSON.stringify(audit).includes(TOKEN), 'the token is never logged');
  } finally {
    await e.close();
  }
});

test('config: faults without a token is refused; a token must be env: or file:, never inline', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(cfg.file, 'edge:\n  admin: { faults: true }');
  const problems = (f: string) => {
    try {
      loadConfig(f);
    } catch (e) {
      return String((e as { details?: string[] }).details);
    }
    return 'loaded';
  };
  assert.match(problems(cfg.file), /edge\.admin\.faults: true needs edge\.admin\.token/);
  const inline = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(inline.file, `edge:\n  admin: { faults: true, token: ${TOKEN} }`);
  assert.match(problems(inline.file), /edge\.admin\.token: expected "env:NAME" or "file:PATH"/);
  assert.ok(!problems(inline.file).includes(TOKEN), 'the error does not repeat the secret');
});
