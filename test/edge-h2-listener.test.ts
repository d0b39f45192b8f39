// Inbound HTTP/2 on real sockets: h2c with prior knowledge on the plain port
// (the fast path sniffs the preface) and h2 by ALPN on the TLS port, with
// HTTP/1.1 still served on both; streams go through the pipeline and carry
// x-meridian-region; the counters reach /metrics.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { type ClientHttp2Session, connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import {
  appendYaml,
  closeServer,
  echo,
  holdingOrigin,
  startEdge,
  startOrigin,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import {
  END_HEADERS,
  END_STREAM,
  frame,
  HEADERS,
  PREFACE,
  RawH2,
  requestBlock,
  SETTINGS,
  settings,
} from './helpers/h2-frames.js';
import { configWithFreePorts } from './helpers/ports.js';
import { selfSignedCert } from './helpers/raw-http.js';

const origins: Server[] = [];
let plain: TestEdge;
let tls: TestEdge | null = null;
let plainPort = 0;
let tlsPort = 0;

before(async () => {
  const a = await configWithFreePorts('examples/two-regions.yaml');
  for (const p of [9101, 9102]) origins.push(await startOrigin(a.port(p), echo));
  plain = await startEdge(a.file, 'us-east-1');
  plainPort = Number(new URL(plain.url).port);
  const cert = selfSignedCert(mkdtempSync(join(tmpdir(), 'meridian-h2-')));
  if (cert) {
    const b = await configWithFreePorts('examples/two-regions.yaml');
    appendYaml(b.file, `edge:\n  tls: { cert: ${cert.cert}, key: ${cert.key} }`);
    for (const p of [9101, 9102]) origins.push(await startOrigin(b.port(p), echo));
    tls = await startEdge(b.file, 'us-east-1');
    tlsPort = Number(new URL(tls.url).port);
  }
});
after(async () => {
  await plain?.close();
  await tls?.close();
  for (const o of origins) await closeServer(o);
});

interface H2Reply {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

function h2get(client: ClientHttp2Session, path: string, body?: string): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const req = client.request(
      { ':method': body === undefined ? 'GET' : 'POST', ':path': path, ':authority': 'api.example.com' },
      { endStream: body === undefined },
    );
    let head: Record<string, unknown> = {};
    let text = '';
    req.on('response', (h) => {
      head = h;
    });
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: text }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

function http1(port: number, secure: boolean, method = 'GET', body?: string) {
  const send = secure ? httpsRequest : httpRequest;
  return new Promise<{ status: number; region: unknown; version: string; body: string }>(
    (resolve, reject) => {
      const req = send(
        {
          host: '127.0.0.1',
          port,
          method,
          path: '/one',
          headers: {
            host: 'api.example.com',
            ...(body ? { 'content-length': Buffer.byteLength(body) } : {}),
          },
          rejectUnauthorized: false,
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              region: res.headers['x-meridian-region'],
              version: res.httpVersion,
              body: text,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

test('h2c with prior knowledge on the plain port: GET and POST through the pipeline, several streams on one connection', async () => {
  const client = connect(`http://127.0.0.1:${plainPort}`);
  try {
    const [a, b] = await Promise.all([h2get(client, '/h2c?n=1'), h2get(client, '/h2c?n=2')]);
    for (const r of [a, b]) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-meridian-region'], 'us-east-1');
      assert.equal(JSON.parse(r.body).headers.host, 'api.example.com');
    }
    const post = await h2get(client, '/up', 'hello h2c');
    assert.equal(JSON.parse(post.body).received, 9);
  } finally {
    client.close();
  }
});

test('the plain port still serves HTTP/1.1: a fast-path GET and a POST handed to Node', async () => {
  const get = await http1(plainPort, false);
  assert.deepEqual([get.status, get.region, get.version], [200, 'us-east-1', '1.1']);
  const post = await http1(plainPort, false, 'POST', 'abc');
  assert.equal(post.status, 200);
  assert.equal(JSON.parse(post.body).received, 3);
});

test('h2c: a preface arriving a few bytes at a time is still HTTP/2', async () => {
  const raw = new RawH2(plainPort);
  const whole = Buffer.concat([PREFACE, settings()]);
  for (const [from, to] of [
    [0, 3],
    [3, 16],
    [16, 20],
    [20, whole.length],
  ]) {
    raw.write(whole.subarray(from, to));
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(await raw.waitFrame((f) => f.type === SETTINGS && f.flags === 0), 'the server SETTINGS');
  raw.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, requestBlock('/split')));
  const head = await raw.waitFrame((f) => f.type === HEADERS && f.stream === 1);
  assert.ok(head, 'a response on stream 1');
  assert.equal(raw.goaway(), undefined);
  raw.destroy();
});

test('TLS: ALPN h2 and http/1.1 (and no ALPN) on the same port', async (t) => {
  if (!tls) return t.skip('no openssl');
  const client = connect(`https://127.0.0.1:${tlsPort}`, { rejectUnauthorized: false });
  try {
    const r = await h2get(client, '/h2');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-meridian-region'], 'us-east-1');
    assert.equal(JSON.parse(r.body).headers['x-forwarded-proto'], 'https');
    assert.equal(client.alpnProtocol, 'h2');
  } finally {
    client.close();
  }
  const one = await http1(tlsPort, true);
  assert.deepEqual([one.status, one.region, one.version], [200, 'us-east-1', '1.1']);
  // A TLS client offering no ALPN at all gets HTTP/1.1.
  const reply = await new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false }, () => {
      s.write('GET /none HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n');
    });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      text += c;
    });
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 200/);
  assert.match(reply, /x-meridian-region: us-east-1/i);
});

test('HTTP/2 sessions and streams are counted and exported', async () => {
  const client = connect(`http://127.0.0.1:${plainPort}`);
  await h2get(client, '/count');
  client.close();
  const s = plain.edge.runtime.statsSnapshot();
  assert.ok((s.http2?.sessions ?? 0) >= 1);
  assert.ok((s.http2?.streams ?? 0) >= 1);
  const text = await (await fetch(`${plain.admin}/metrics`)).text();
  assert.match(text, /^meridian_edge_http2_sessions_total\{edge="us-east-1"\} [1-9]/m);
  assert.match(text, /^meridian_edge_http2_streams_total\{edge="us-east-1"\} [1-9]/m);
  assert.match(text, /# TYPE meridian_edge_http2_refused_total counter/);
});

test('drain: an HTTP/2 client gets GOAWAY, its stream in flight still finishes', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const hold = holdingOrigin();
  const mine = [
    await startOrigin(cfg.port(9101), hold.handler),
    await startOrigin(cfg.port(9102), hold.handler),
  ];
  const edge = await startEdge(cfg.file, 'us-east-1');
  const client = connect(edge.url);
  try {
    const goaway = new Promise((r) => client.once('goaway', r));
    const answer = h2get(client, '/held');
    await waitFor(() => hold.held.length === 1, 5000);
    const drained = edge.edge.drain(5000);
    await goaway;
    hold.release();
    const r = await answer;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'released');
    await drained;
  } finally {
    client.destroy();
    await edge.close();
    for (const o of mine) await closeServer(o);
  }
});

test('edge.http2.enabled: false: the preface is an HTTP/1.1 parse error (400), as before', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(cfg.file, 'edge:\n  http2: { enabled: false }');
  const edge = await startEdge(cfg.file, 'us-east-1');
  try {
    const reply = await new Promise<string>((resolve) => {
      const socket = netConnect(Number(new URL(edge.url).port), '127.0.0.1', () => socket.write(PREFACE));
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (c: string) => {
        text += c;
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => {});
    });
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.equal(edge.edge.runtime.statsSnapshot().http2?.sessions, 0);
  } finally {
    await edge.close();
  }
});
