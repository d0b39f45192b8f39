import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { test } from 'node:test';
import type { ClientExchange } from '../exchange/client-exchange.js';
import { NodeHttpExchange } from '../exchange/node-http.js';
import { FastListener } from './listener.js';
import { HAND_OFF, INCOMPLETE, parseSimpleRequest } from './request-line.js';

const parse = (head: string) => parseSimpleRequest(Buffer.from(head, 'latin1'), 16384);

test('fast path takes simple GET and HEAD requests', () => {
  const r = parse('GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-A:  v \r\n\r\n');
  assert.notEqual(typeof r, 'number');
  if (typeof r === 'number') return;
  assert.deepEqual(
    [r.method, r.url, r.rawHeaders, r.close],
    ['GET', '/a?b=c', ['Host', 'x', 'X-A', 'v'], false],
  );
  const h = parse('HEAD / HTTP/1.1\r\nhost: x\r\nConnection: close\r\n\r\n');
  assert.ok(typeof h !== 'number' && h.method === 'HEAD' && h.close);
});

const handOff = [
  { name: 'POST', input: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx' },
  { name: 'GET with Content-Length', input: 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' },
  { name: 'Transfer-Encoding', input: 'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' },
  { name: 'HTTP/1.0', input: 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' },
  { name: 'absolute-form target', input: 'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'no Host', input: 'GET / HTTP/1.1\r\nX: y\r\n\r\n' },
  { name: 'two Hosts', input: 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n' },
  { name: 'space before the colon', input: 'GET / HTTP/1.1\r\nHost : x\r\n\r\n' },
  { name: 'obs-fold', input: 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n' },
  { name: 'bare LF', input: 'GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n' },
  {
    name: 'Connection with trailing whitespace',
    input: 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\t\r\n\r\n',
  },
  { name: 'non-ASCII in the target', input: 'GET /\xe9 HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'Expect', input: 'GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n' },
  { name: 'Upgrade', input: 'GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n' },
  { name: 'oversized head', input: `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(20_000)}` },
];
for (const c of handOff) {
  test(`fast path hands to Node's parser: ${c.name}`, () => assert.equal(parse(c.input), HAND_OFF));
}

test('fast path waits for the rest of a head', () =>
  assert.equal(parse('GET / HTTP/1.1\r\nHost: x\r\n'), INCOMPLETE));

test('fast path hands an unfinished head with a bare LF to Node (it would never see CRLFCRLF)', () =>
  assert.equal(parse('GET / HTTP/1.1\nHost: x\n\n'), HAND_OFF));

/** A FastListener with Node's server behind it; `handler` answers both paths. */
async function listener(handler: (x: ClientExchange) => void, keepAliveTimeout = 5000) {
  const http = createHttpServer((req, res) => handler(new NodeHttpExchange(req, res)));
  const fast = new FastListener(http, {
    maxHeaderSize: 16384,
    headersTimeout: 5000,
    keepAliveTimeout,
    idleTimeout: 5000,
    maxConnections: 100,
    maxRequestsPerConnection: 0,
    handle: handler,
  });
  await new Promise<void>((r) => fast.server.listen(0, '127.0.0.1', r));
  const port = (fast.server.address() as AddressInfo).port;
  return {
    port,
    close: async () => {
      http.closeAllConnections();
      await fast.close();
    },
  };
}

/** Sends raw bytes, collects the answer until the server closes or `until` matches. */
function exchange(port: number, text: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text, 'latin1'));
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no match; got ${JSON.stringify(got)}`));
    }, 3000);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (until.test(got)) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

test('fast listener: pipelined requests in order, HEAD without body, chunked when no length, then a POST on Node', async () => {
  const seen: string[] = [];
  const l = await listener((x) => {
    seen.push(`${x.method} ${x.target}`);
    if (x.target === '/stream') {
      x.writeHead(200, ['content-type', 'text/plain']);
      x.write(Buffer.from('ab'));
      x.end('c');
    } else if (x.method === 'POST') {
      let body = '';
      x.body!.on('data', (c) => {
        body += c;
      });
      x.body!.on('end', () => x.end(`posted ${body}`));
    } else {
      x.writeHead(200, ['content-length', '5']);
      x.end('hello');
    }
  });
  try {
    const got = await exchange(
      l.port,
      'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz',
      /posted xyz/,
    );
    assert.deepEqual(seen, ['GET /1', 'HEAD /2', 'GET /stream', 'POST /p']);
    const answers = got.split('HTTP/1.1 200 OK').slice(1);
    assert.equal(answers.length, 4);
    assert.match(answers[0], /\r\n\r\nhello$/);
    assert.match(answers[1], /content-length: 5\r\n/);
    assert.ok(answers[1].endsWith('\r\n\r\n'), 'HEAD: no body');
    assert.match(answers[2], /transfer-encoding: chunked\r\n/);
    assert.ok(answers[2].endsWith('\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n'), answers[2]);
    assert.match(answers[3], /posted xyz/);
  } finally {
    await l.close();
  }
});

test('fast listener: Connection: close closes after the answer; malformed input gets Node 400', async () => {
  const l = await listener((x) => x.end('ok'));
  try {
    const closed = await exchange(l.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /$^/);
    assert.match(closed, /^HTTP\/1\.1 200 OK\r\n[\s\S]*connection: close\r\n[\s\S]*\r\n\r\nok$/);
    const bad = await exchange(
      l.port,
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      /$^/,
    );
    assert.match(bad, /^HTTP\/1\.1 400 Bad Request/);
  } finally {
    await l.close();
  }
});

test('fast listener: an idle keep-alive connection is closed after keepAliveTimeout', async () => {
  const l = await listener((x) => x.end('ok'), 200);
  try {
    const started = Date.now();
    const got = await exchange(l.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', /$^/);
    assert.match(got, /keep-alive: timeout=0\r\n|keep-alive/);
    assert.ok(Date.now() - started < 2000);
  } finally {
    await l.close();
  }
});

test('fast listener: a client that half-closes after its request still gets the answer', async () => {
  const l = await listener((x) => setTimeout(() => x.end('late'), 50));
  try {
    const got = await new Promise<string>((resolve) => {
      const s = connect(l.port, '127.0.0.1', () => s.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      s.on('data', (d) => {
        text += d.toString('latin1');
      });
      s.on('close', () => resolve(text));
    });
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nlate$/);
  } finally {
    await l.close();
  }
});
