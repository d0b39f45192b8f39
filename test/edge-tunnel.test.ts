// WebSocket (and other agreed Upgrades) through the edge: on the plain
// listener (the fast path hands an upgrade to Node's parser) and on TLS, to
// the home region across the isthmus, an origin that does not agree, and
// hostile input. Evacuation and drain: test/edge-tunnel-evacuation.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import {
  appendYaml,
  closeServer,
  echo,
  startEdge,
  startOrigin,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';
import { rawExchange, rawStatus, selfSignedCert } from './helpers/raw-http.js';
import {
  acceptWebSockets,
  type HandshakeReply,
  isOpen,
  openWebSocket,
  type WsClient,
  type WsTarget,
} from './helpers/websocket.js';

const HOST = 'api.example.com';
const SEATTLE = '24.16.0.1';
const origins: Server[] = [];
const upgrades: ReturnType<typeof acceptWebSockets>[] = [];
/** Every upgrade request any origin received, in order. */
const arrived: IncomingMessage[] = [];
const edges: TestEdge[] = [];
let east: TestEdge;
let west: TestEdge;
let eastTls: TestEdge | null = null;

const target = (e: TestEdge, tls = false): WsTarget => ({ port: Number(new URL(e.url).port), tls });
const seen = () => arrived.map((r) => r.url);

async function originsFor(cfg: Awaited<ReturnType<typeof configWithFreePorts>>) {
  for (const p of [9101, 9102, 9201, 9202]) {
    const s = await startOrigin(cfg.port(p), echo);
    upgrades.push(acceptWebSockets(s, `origin-${p}`, arrived));
    origins.push(s);
  }
}

async function open(t: WsTarget, headers: Record<string, string> = {}, path = '/ws'): Promise<WsClient> {
  const c = await openWebSocket(t, { host: HOST, ...headers }, path);
  assert.ok(isOpen(c), `101 expected, got ${JSON.stringify(c)}`);
  return c;
}

before(async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  await originsFor(cfg);
  east = await startEdge(cfg.file, 'us-east-1');
  west = await startEdge(cfg.file, 'us-west-2');
  edges.push(east, west);
  const reachable = () => east.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
  assert.ok((await waitFor(reachable, 5000)) >= 0, 'us-east-1 reaches us-west-2');
  const cert = selfSignedCert(mkdtempSync(join(tmpdir(), 'meridian-tunnel-')));
  if (cert) {
    const tlsCfg = await configWithFreePorts('examples/two-regions.yaml');
    appendYaml(tlsCfg.file, `edge:\n  tls: { cert: ${cert.cert}, key: ${cert.key} }`);
    await originsFor(tlsCfg);
    eastTls = await startEdge(tlsCfg.file, 'us-east-1');
    edges.push(eastTls);
  }
});
after(async () => {
  for (const e of edges) await e.close();
  for (const s of origins) await closeServer(s);
});

for (const listener of ['plain', 'tls']) {
  test(`${listener}: a WebSocket echo goes through the edge to a local origin`, async (t) => {
    const edge = listener === 'plain' ? east : eastTls;
    if (!edge) return t.skip('no TLS certificate (openssl missing)');
    const ws = await open(target(edge, listener === 'tls'));
    assert.equal(ws.reply.headers['x-meridian-region'], 'us-east-1');
    assert.match(ws.reply.headers['x-origin'], /^origin-91/);
    assert.equal(await ws.echo('hello'), 'hello');
    const big = 'x'.repeat(200_000);
    assert.equal(await ws.echo(big), big, 'a frame with a 64-bit length is just bytes');
    const req = arrived.at(-1)!;
    assert.equal(req.headers.upgrade, 'websocket');
    assert.match(String(req.headers['x-forwarded-for']), /127\.0\.0\.1/);
    assert.equal(req.headers['x-meridian-hop'], undefined);
    ws.close();
    assert.equal(await ws.closed, 1000, 'the origin answered our close');
  });
}

test('isthmus: a Seattle client at us-east-1 gets its tunnel from us-west-2', async (t) => {
  const ws = await open(target(east), { 'x-forwarded-for': SEATTLE });
  t.after(() => ws.socket.destroy());
  assert.equal(ws.reply.headers['x-meridian-region'], 'us-west-2');
  assert.match(ws.reply.headers['x-origin'], /^origin-92/);
  for (let i = 0; i < 5; i++) assert.equal(await ws.echo(`m${i}`), `m${i}`);
  const req = arrived.at(-1)!;
  assert.match(String(req.headers.via), /meridian-us-east-1, 1.1 meridian-us-west-2/);
  ws.close();
  await ws.closed;
  await waitFor(() => east.edge.runtime.tunnels.size === 0 && west.edge.runtime.tunnels.size === 0, 3000);
  assert.equal(east.edge.runtime.tunnels.size, 0, 'both edges let the tunnel go');
  assert.equal(west.edge.runtime.tunnels.size, 0);
});

test('an origin that answers 200 instead of 101: the client gets that answer, the origin nothing more', async () => {
  const reply = (await openWebSocket(target(east), { host: HOST }, '/no-upgrade')) as HandshakeReply;
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-meridian-region'], 'us-east-1');
  assert.equal(reply.headers.connection, 'close');
  assert.match(reply.body, /"upgraded":false/);
  // Bytes after the head wait for a 101: a non-agreeing origin never sees a smuggled request.
  const before = upgrades.reduce((n, u) => n + u.plainAfter.length, 0);
  const smuggle = `GET /no-upgrade HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
  const raw = await rawExchange(target(east), smuggle, { quietMs: 1500 });
  assert.equal(rawStatus(raw.data), 200);
  assert.ok(raw.closed, 'the edge closes the connection after the answer');
  assert.equal(
    upgrades.reduce((n, u) => n + u.plainAfter.length, 0),
    before,
  );
  assert.ok(!seen().includes('/smuggled'));
});

test('an origin that switches to a protocol nobody offered: 502', async () => {
  const reply = (await openWebSocket(target(east), { host: HOST }, '/wrong-protocol')) as HandshakeReply;
  assert.equal(reply.status, 502);
});

test('hostile: Upgrade on a POST with a body is refused with 400; nothing reaches an origin', async () => {
  const before = seen().length;
  const raw = await rawExchange(
    target(east),
    `POST /ws HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello`,
  );
  assert.equal(rawStatus(raw.data), 400, raw.data);
  assert.ok(raw.closed);
  assert.equal(seen().length, before);
});

test('hostile: an h2c upgrade is served as plain HTTP/1.1, never tunnelled', async () => {
  const raw = await rawExchange(
    target(east),
    `GET /h2c HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
  );
  assert.equal(rawStatus(raw.data), 200, raw.data);
  assert.ok(raw.closed);
  const body = JSON.parse(
    raw.data.slice(raw.data.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''),
  );
  assert.equal(body.headers.upgrade, undefined);
  assert.equal(body.headers['http2-settings'], undefined);
});

test('hostile: a frame that claims 2^63 bytes, then a reset; the edge carries on', async () => {
  const ws = await open(target(east));
  const open1 = east.edge.runtime.tunnels.size;
  ws.socket.write(Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]));
  ws.socket.write(Buffer.alloc(64 * 1024, 7));
  ws.socket.resetAndDestroy();
  assert.ok((await waitFor(() => east.edge.runtime.tunnels.size === open1 - 1, 3000)) >= 0);
  const again = await open(target(east));
  assert.equal(await again.echo('still here'), 'still here');
  again.close();
  await again.closed;
});

test('metrics: tunnels open, opened and closed by reason', async () => {
  const ws = await open(target(east));
  const metrics = async () => (await (await request(`${east.admin}/metrics`)).body.text()) as string;
  assert.match(await metrics(), /^meridian_edge_tunnels_open\{service="api",edge="us-east-1"\} 1$/m);
  ws.close();
  await ws.closed;
  await waitFor(() => east.edge.runtime.tunnels.size === 0, 3000);
  const text = await metrics();
  assert.match(text, /^meridian_edge_tunnels_open\{service="api",edge="us-east-1"\} 0$/m);
  assert.match(
    text,
    /^meridian_edge_tunnels_opened_total\{service="api",region="us-east-1",edge="us-east-1"\} \d+$/m,
  );
  assert.match(
    text,
    /^meridian_edge_tunnels_opened_total\{service="api",region="us-west-2",edge="us-east-1"\} \d+$/m,
  );
  assert.match(
    text,
    /^meridian_edge_tunnels_closed_total\{service="api",reason="client",edge="us-east-1"\} \d+$/m,
  );
  assert.match(
    text,
    /^meridian_edge_requests_total\{service="api",region="us-east-1",status_class="1xx",outcome="served",edge="us-east-1"\} \d+$/m,
  );
});

test('tunnels hold the service hard cap (not the adaptive limit) and their connections count against maxConnections', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(cfg.file, 'edge:\n  maxConnections: 3\n  services: [{ name: api, maxInFlight: 2 }]');
  await originsFor(cfg);
  const edge = await startEdge(cfg.file, 'us-east-1');
  edges.push(edge);
  const get = `GET /plain HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`;
  const ws1 = await open(target(edge));
  const ws2 = await open(target(edge));
  assert.equal(edge.edge.runtime.services.get(HOST)!.limiter.inFlight, 0, 'not in the adaptive limit');
  assert.equal(
    rawStatus((await rawExchange(target(edge), get)).data),
    503,
    'two tunnels fill maxInFlight: 2',
  );
  const third = (await openWebSocket(target(edge), { host: HOST })) as HandshakeReply;
  assert.equal(third.status, 503);
  // Two tunnels and one idle connection: a fourth connection is closed on accept.
  const idle = connect(target(edge).port, '127.0.0.1');
  idle.on('error', () => {});
  await new Promise((r) => idle.once('connect', r));
  const refused = await rawExchange(target(edge), get);
  assert.equal(refused.data, '');
  assert.ok(refused.closed);
  assert.equal(edge.edge.runtime.stats.connectionsRefused, 1);
  idle.destroy();
  ws1.close();
  await ws1.closed;
  await waitFor(() => edge.edge.runtime.tunnels.size === 1, 3000);
  // The edge counts closed connections asynchronously: poll until one is served.
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++)
    status = rawStatus((await rawExchange(target(edge), get)).data);
  assert.equal(status, 200, 'a slot is free again');
  ws2.close();
  await ws2.closed;
});
