// Slow and greedy clients at the edge, on the plain listener (fast path and
// Node's server after a hand-off) and the TLS listener. Timeouts are scaled
// down (a head within 600 ms, a whole request within 1.5 s, a TLS handshake
// within 600 ms) and every assertion has seconds of margin: "closed within
// 6 s" against an attacker who would otherwise hold the connection for ever.
// Each case runs with a legitimate request answered 200 alongside.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { appendYaml, closeServer, echo, startEdge, startOrigin, type TestEdge } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';
import { type RawTarget, rawExchange, rawStatus, selfSignedCert } from './helpers/raw-http.js';

const HOST = 'api.example.com';
const SCALED = `  timeouts: { clientHeaders: 600ms, clientRequest: 1500ms, tlsHandshake: 600ms }
  maxRequestsPerConnection: 3`;
// Idle connections hold the cap for the whole test: a head timeout far longer than the test.
const CAPPED = '  maxConnections: 3\n  timeouts: { clientHeaders: 60s }';
/** Far longer than any scaled timeout, far shorter than "for ever". */
const CUT_WITHIN = 6000;

const origins: Server[] = [];
const edges: TestEdge[] = [];
const targets = new Map<string, RawTarget & { admin: string }>();
let cert: { cert: string; key: string } | null = null;
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function edgeWith(yaml: string, tls: boolean): Promise<RawTarget & { admin: string }> {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const tlsLine = tls && cert ? `\n  tls: { cert: ${cert.cert}, key: ${cert.key} }` : '';
  appendYaml(cfg.file, `edge:\n${yaml}${tlsLine}`);
  for (const p of [9101, 9102, 9201, 9202]) origins.push(await startOrigin(cfg.port(p), echo));
  edges.push(await startEdge(cfg.file, 'us-east-1'));
  const edge = edges.at(-1)!;
  return { port: Number(new URL(edge.url).port), tls, admin: edge.admin };
}

before(async () => {
  cert = selfSignedCert(mkdtempSync(join(tmpdir(), 'meridian-slow-')));
  targets.set('plain', await edgeWith(SCALED, false));
  targets.set('plain-capped', await edgeWith(CAPPED, false));
  if (cert) {
    targets.set('tls', await edgeWith(SCALED, true));
    targets.set('tls-capped', await edgeWith(CAPPED, true));
  }
});
after(async () => {
  await insecure.close();
  for (const e of edges) await e.close();
  for (const s of origins) await closeServer(s);
});

/** A legitimate GET on its own connection. */
async function legit(target: RawTarget, dispatcher: Agent = insecure): Promise<number> {
  const url = `${target.tls ? 'https' : 'http'}://127.0.0.1:${target.port}/legit`;
  const res = await request(url, { headers: { host: HOST }, dispatcher });
  await res.body.dump();
  return res.statusCode;
}

const HANDED_OFF = `POST /p HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1\r\n\r\na`;
/** One byte every 100 ms for far longer than the test waits. */
const drip = (n = 200) => Array.from({ length: n }, () => 'a');

const listeners = (capped = false) =>
  (capped ? ['plain-capped', 'tls-capped'] : ['plain', 'tls']).map((name) => ({
    name: name.replace('-capped', ''),
    target: () => targets.get(name),
  }));

for (const { name, target: of } of listeners()) {
  const dripCases = [
    { how: 'a new connection', first: [] as string[] },
    ...(name === 'plain' ? [{ how: "Node's server after a hand-off", first: [HANDED_OFF] }] : []),
  ];
  for (const { how, first } of dripCases) {
    test(`${name}: a head dripped one byte per 100 ms on ${how} is cut at clientHeaders`, async (t) => {
      const target = of();
      if (!target) return t.skip('no TLS certificate');
      const started = Date.now();
      const attack = rawExchange(
        target,
        [...first, `GET /slow HTTP/1.1\r\nHost: ${HOST}\r\nX-Drip: `, ...drip()],
        { quietMs: CUT_WITHIN, gapMs: 100 },
      );
      assert.equal(await legit(target), 200, 'a legitimate request is answered meanwhile');
      const reply = await attack;
      assert.ok(reply.closed, `the edge closed the dripping connection (${Date.now() - started} ms)`);
      assert.ok(!reply.data.includes('/slow'), 'the dripped request was never answered');
    });
  }

  test(`${name}: a body dripped one byte per 100 ms is cut at clientRequest`, async (t) => {
    const target = of();
    if (!target) return t.skip('no TLS certificate');
    const head = `POST /slow-body HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1000\r\n\r\n`;
    const attack = rawExchange(target, [head, ...drip()], { quietMs: CUT_WITHIN, gapMs: 100 });
    assert.equal(await legit(target), 200);
    const reply = await attack;
    assert.ok(reply.closed, 'the edge closed the slow upload');
    assert.notEqual(rawStatus(reply.data), 200);
  });

  test(`${name}: a keep-alive connection ends after maxRequestsPerConnection (3)`, async (t) => {
    const target = of();
    if (!target) return t.skip('no TLS certificate');
    for (const path of ['fast', 'node']) {
      if (path === 'fast' && name === 'tls') continue;
      const one =
        path === 'fast'
          ? `GET /k HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`
          : `POST /k HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1\r\n\r\na`;
      const reply = await rawExchange(target, one.repeat(5), { quietMs: CUT_WITHIN });
      const statuses = [...reply.data.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
      assert.deepEqual(statuses.slice(0, 3), [200, 200, 200], `${path}: ${statuses}`);
      assert.ok(!statuses.slice(3).includes(200), `${path}: no 4th request served: ${statuses}`);
      assert.ok(reply.closed, `${path}: the edge closed the connection`);
      const third = reply.data.split(/(?=^HTTP\/1\.1 )/m)[2] ?? '';
      assert.match(third, /^connection: close\r$/im, `${path}: the 3rd answer says close`);
    }
  });
}

test('tls: a handshake that never finishes is cut at tlsHandshake', async (t) => {
  const target = targets.get('tls');
  if (!target) return t.skip('no TLS certificate');
  const started = Date.now();
  const closed = new Promise<boolean>((resolve) => {
    const socket = connect(target.port, '127.0.0.1');
    // The first bytes of a ClientHello record, then silence.
    socket.on('connect', () => socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00])));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, CUT_WITHIN);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => {});
  });
  assert.equal(await legit(target), 200);
  assert.ok(await closed, `the edge closed the stalled handshake (${Date.now() - started} ms)`);
});

for (const { name, target: of } of listeners(true)) {
  test(`${name}: connections above maxConnections (3) are refused; below, served`, async (t) => {
    const target = of();
    if (!target) return t.skip('no TLS certificate');
    const idle = [connect(target.port, '127.0.0.1'), connect(target.port, '127.0.0.1')];
    for (const s of idle) {
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
    }
    const agent = new Agent({ connections: 1, connect: { rejectUnauthorized: false } });
    try {
      assert.equal(await legit(target, agent), 200, 'the third connection is served');
      const refused = await rawExchange(target, `GET /over HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, {
        quietMs: CUT_WITHIN,
      });
      assert.ok(refused.closed, 'the fourth connection is closed');
      assert.equal(refused.data, '', 'and gets no answer');
      const metrics = await (await request(`${target.admin}/metrics`)).body.text();
      const count = Number(
        /^meridian_edge_connections_refused_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1],
      );
      assert.ok(count >= 1, `refusals are counted: ${count}`);
      for (const s of idle) s.destroy();
      await agent.close();
      // The edge counts the closes asynchronously: poll until a new connection is served.
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        const r = await rawExchange(
          target,
          `GET /again HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
        );
        status = rawStatus(r.data);
      }
      assert.equal(status, 200, 'below the cap again, a new connection is served');
    } finally {
      for (const s of idle) s.destroy();
      await agent.close().catch(() => {});
    }
  });
}
