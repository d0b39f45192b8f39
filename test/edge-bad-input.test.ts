// Bad input at the edge, over raw sockets: malformed requests and
// request-smuggling shapes get 400 (oversized heads 431) and never reach an
// origin; an unknown Host gets 421; an origin that answers garbage gets the
// client a 502 and the edge keeps serving.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { closeServer, echo, startEdge, startOrigin, type TestEdge } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';
import { rawExchange, rawStatus } from './helpers/raw-http.js';

const HOST = 'api.example.com';
let east: TestEdge;
let port: number;
let proxied = 0;
const servers: Server[] = [];

before(async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  for (const p of [9101, 9102, 9201, 9202]) {
    servers.push(
      await startOrigin(cfg.port(p), (req, res) => {
        proxied++;
        echo(req, res);
      }),
    );
  }
  east = await startEdge(cfg.file, 'us-east-1');
  port = Number(new URL(east.url).port);
});
after(async () => {
  await east.close();
  for (const s of servers) await closeServer(s);
});

/** Sends raw bytes and returns everything the edge wrote back before closing or going quiet. */
const raw = async (bytes: string) => (await rawExchange({ port }, bytes)).data;
const status = rawStatus;

const CASES: { name: string; input: string; expect: number }[] = [
  {
    name: 'CL.TE smuggling: Content-Length and Transfer-Encoding together',
    input: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`,
    expect: 400,
  },
  {
    name: 'TE.CL smuggling: Transfer-Encoding first',
    input: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`,
    expect: 400,
  },
  {
    name: 'two different Content-Length values',
    input: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde`,
    expect: 400,
  },
  {
    name: 'Transfer-Encoding that does not end in chunked',
    input: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    expect: 400,
  },
  {
    name: 'obfuscated Transfer-Encoding (space before the colon)',
    input: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
    expect: 400,
  },
  {
    name: 'Content-Length that is not a number',
    input: `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1x\r\n\r\n1`,
    expect: 400,
  },
  { name: 'garbage request line', input: 'HELLO THERE\r\n\r\n', expect: 400 },
  {
    name: 'header line without a colon',
    input: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nBroken\r\n\r\n`,
    expect: 400,
  },
  { name: 'no Host header', input: 'GET / HTTP/1.1\r\n\r\n', expect: 400 },
  {
    name: 'absolute-form target (a forward-proxy request)',
    input: `GET http://internal.example.com/ HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
    expect: 400,
  },
  {
    name: 'oversized header',
    input: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    expect: 431,
  },
  { name: 'unknown Host', input: 'GET / HTTP/1.1\r\nHost: unknown.example.net\r\n\r\n', expect: 421 },
];

for (const c of CASES) {
  test(`bad input: ${c.name} -> ${c.expect}, not proxied`, async () => {
    const before = proxied;
    const response = await raw(c.input);
    assert.equal(status(response), c.expect, response.slice(0, 200));
    assert.match(response, /x-meridian-region: us-east-1/i);
    assert.equal(proxied, before, 'the origin never saw it');
  });
}

test('hop-by-hop headers are removed and forwarding headers set', async () => {
  const response = await raw(
    `GET /h HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close, X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\n` +
      'TE: trailers\r\nProxy-Authorization: Basic eA==\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\n',
  );
  assert.equal(status(response), 200);
  const body = JSON.parse(
    response.slice(response.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''),
  );
  const h = body.headers as Record<string, string>;
  for (const gone of ['x-secret', 'keep-alive', 'te', 'proxy-authorization', 'upgrade'])
    assert.equal(h[gone], undefined, gone);
  assert.equal(h['x-kept'], 'yes');
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], HOST);
  assert.equal(h.via, '1.1 meridian-us-east-1');
});

test('an origin that answers garbage gets the client a 502; the edge keeps serving', async () => {
  const garbage = createTcpServer((s) => {
    s.on('data', () => s.end('this is not HTTP at all\r\n\r\n'));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
  const gport = (garbage.address() as { port: number }).port;
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const { readFileSync, writeFileSync } = await import('node:fs');
  const text = readFileSync(cfg.file, 'utf8')
    .replace(`127.0.0.1:${cfg.port(9101)}`, `127.0.0.1:${gport}`)
    .replace(`127.0.0.1:${cfg.port(9102)}`, `127.0.0.1:${gport}`);
  writeFileSync(cfg.file, text);
  const edge = await startEdge(cfg.file, 'us-east-1');
  try {
    // us-west-2's edge is not running (never reachable), so no cross-region retry hides the 502.
    const res = await request(`${edge.url}/g`, { headers: { host: HOST } });
    await res.body.dump();
    assert.equal(res.statusCode, 502);
    assert.equal(res.headers['x-meridian-region'], 'us-east-1');
    const health = await request(`${edge.url}/meridian/health`);
    assert.equal(health.statusCode, 200);
    await health.body.dump();
  } finally {
    await edge.close();
    garbage.close();
  }
});
