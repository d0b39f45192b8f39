// One conformance suite for every listener's adapter (as hono's routers share
// common.case.test.ts): the same requests through Node's HTTP/1.1 server, the
// fast path, HTTP/2 (h2c) and edge.request()'s in-process exchange.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createH2Server, connect as h2connect, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { request } from 'undici';
import { FastListener } from '../inbound-fast/listener.js';
import type { ClientExchange } from './client-exchange.js';
import { H2Exchange } from './h2.js';
import { InProcessExchange } from './in-process.js';
import { NodeHttpExchange } from './node-http.js';

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  error?: string;
}
type Handler = (x: ClientExchange) => void;
interface Running {
  send(r: Sent): Promise<Reply>;
  close(): Promise<void>;
}
interface Adapter {
  name: string;
  /** Why a case does not apply to this listener, if it does not. */
  skip?: (r: Sent) => string | undefined;
  start(handler: Handler): Promise<Running>;
}

const HOST = 'api.example.com';

async function http1Client(port: number, r: Sent): Promise<Reply> {
  try {
    const res = await request(`http://127.0.0.1:${port}${r.path}`, {
      method: r.method as 'GET',
      headers: { host: HOST, ...r.headers },
      body: r.body,
    });
    const body = await res.body.text();
    return { status: res.statusCode, headers: res.headers as Record<string, string>, body };
  } catch (e) {
    return { status: 0, headers: {}, body: '', error: (e as Error).message };
  }
}

const listen = async (server: {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): unknown;
}) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

const adapters: Adapter[] = [
  {
    name: 'node-http',
    async start(handler) {
      const server = createServer((req, res) => handler(new NodeHttpExchange(req, res)));
      const port = await listen(server);
      return {
        send: (r) => http1Client(port, r),
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      };
    },
  },
  {
    name: 'fast',
    skip: (r) =>
      r.body !== undefined ? 'the fast path takes no request body (Node parses those)' : undefined,
    async start(handler) {
      const http = createServer(() => assert.fail('handed to Node'));
      const fast = new FastListener(http, {
        maxHeaderSize: 16384,
        headersTimeout: 5000,
        keepAliveTimeout: 5000,
        idleTimeout: 5000,
        maxConnections: 100,
        maxRequestsPerConnection: 0,
        handle: handler,
      });
      const port = await listen(fast.server);
      return { send: (r) => http1Client(port, r), close: () => fast.close() };
    },
  },
  {
    name: 'h2c',
    async start(handler) {
      const server = createH2Server();
      server.on('stream', (stream: ServerHttp2Stream, _h: unknown, _f: number, raw: string[]) =>
        handler(new H2Exchange(stream, raw)),
      );
      const port = await listen(server);
      const client = h2connect(`http://127.0.0.1:${port}`);
      client.on('error', () => {});
      return {
        send: (r) =>
          new Promise<Reply>((resolve) => {
            const req = client.request(
              {
                ':method': r.method,
                ':path': r.path,
                ':authority': HOST,
                ...r.headers,
              },
              { endStream: r.body === undefined },
            );
            let status = 0;
            let headers: Record<string, string> = {};
            let body = '';
            req.on('response', (h) => {
              status = Number(h[':status']);
              headers = Object.fromEntries(
                Object.entries(h)
                  .filter(([k]) => !k.startsWith(':'))
                  .map(([k, v]) => [k, String(v)]),
              );
            });
            req.setEncoding('latin1');
            req.on('data', (c: string) => {
              body += c;
            });
            req.on('end', () =>
              resolve({ status, headers, body, ...(req.rstCode ? { error: `RST ${req.rstCode}` } : {}) }),
            );
            req.on('error', (e) => resolve({ status, headers, body, error: e.message }));
            if (r.body !== undefined) req.end(r.body);
          }),
        async close() {
          client.close();
          await new Promise((done) => server.close(() => done(undefined)));
        },
      };
    },
  },
  {
    name: 'in-process',
    async start(handler) {
      return {
        async send(r) {
          const x = new InProcessExchange(r.path, HOST, {
            method: r.method,
            headers: r.headers,
            body: r.body,
          });
          handler(x);
          try {
            const res = await x.response;
            return { status: res.status, headers: res.headers, body: res.body.toString('latin1') };
          } catch (e) {
            return { status: x.statusCode, headers: {}, body: '', error: (e as Error).message };
          }
        },
        close: async () => {},
      };
    },
  },
];

/** Reads the request body (if any) to a string. */
function readBody(x: ClientExchange): Promise<string> {
  if (x.body === null) return Promise.resolve('');
  return new Promise((resolve) => {
    let text = '';
    x.body!.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    x.body!.on('end', () => resolve(text));
  });
}

const header = (x: ClientExchange, name: string) => {
  const values: string[] = [];
  for (let i = 0; i < x.rawHeaders.length; i += 2) {
    if (x.rawHeaders[i].toLowerCase() === name) values.push(x.rawHeaders[i + 1]);
  }
  return values;
};

interface Case {
  name: string;
  send: Sent;
  handler: (x: ClientExchange, seen: unknown[]) => void;
  check: (reply: Reply, seen: unknown[]) => void | Promise<void>;
}

const cases: Case[] = [
  {
    name: 'the request as sent: method, target, one Host, headers',
    send: { method: 'GET', path: '/a?b=1', headers: { 'x-a': '1' } },
    handler: (x) => {
      const seen = {
        method: x.method,
        target: x.target,
        host: header(x, 'host'),
        xa: header(x, 'x-a'),
        body: x.body,
      };
      x.writeHead(200, ['content-type', 'application/json']);
      x.end(JSON.stringify({ ...seen, body: seen.body === null ? null : 'stream' }));
    },
    check: (reply) => {
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.body), {
        method: 'GET',
        target: '/a?b=1',
        host: [HOST],
        xa: ['1'],
        body: reply.body.includes('"body":null') ? null : 'stream',
      });
    },
  },
  {
    name: 'a request body as a stream, with its framing in the headers',
    send: { method: 'POST', path: '/p', body: 'hello' },
    handler: (x) => {
      const framing = [...header(x, 'content-length'), ...header(x, 'transfer-encoding')];
      void readBody(x).then((body) => x.end(JSON.stringify({ body, framed: framing.length === 1 })));
    },
    check: (reply) => assert.deepEqual(JSON.parse(reply.body), { body: 'hello', framed: true }),
  },
  {
    name: 'status, headers and a body written in pieces',
    send: { method: 'GET', path: '/s' },
    handler: (x) => {
      x.writeHead(201, ['x-r', '1', 'content-type', 'text/plain']);
      x.write(Buffer.from('ab'));
      x.end('c');
    },
    check: (reply) => {
      assert.equal(reply.status, 201);
      assert.equal(reply.headers['x-r'], '1');
      assert.equal(reply.body, 'abc');
    },
  },
  {
    name: 'HEAD: the head only',
    send: { method: 'HEAD', path: '/h' },
    handler: (x) => {
      x.writeHead(200, ['content-length', '5']);
      x.end('hello');
    },
    check: (reply) => {
      assert.equal(reply.status, 200);
      assert.equal(reply.body, '');
    },
  },
  {
    name: 'onClose once, finished after a whole response',
    send: { method: 'GET', path: '/c' },
    handler: (x, seen) => {
      x.onClose(() => seen.push(x.finished));
      x.end('ok');
    },
    check: async (reply, seen) => {
      assert.equal(reply.body, 'ok');
      await waitUntil(() => seen.length > 0);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, [true]);
    },
  },
  {
    name: 'destroy cuts the response off; onClose says unfinished',
    send: { method: 'GET', path: '/d' },
    handler: (x, seen) => {
      x.onClose(() => seen.push(x.finished));
      x.writeHead(200, ['content-length', '10']);
      x.write(Buffer.from('abc'));
      setTimeout(() => x.destroy(), 10);
    },
    check: async (reply, seen) => {
      assert.ok(reply.error !== undefined || reply.body.length < 10, 'the client sees a cut-off response');
      await waitUntil(() => seen.length > 0);
      assert.deepEqual(seen, [false]);
    },
  },
];

async function waitUntil(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const adapter of adapters) {
  for (const c of cases) {
    test(`${adapter.name}: ${c.name}`, async (t) => {
      const why = adapter.skip?.(c.send);
      if (why !== undefined) return t.skip(why);
      const seen: unknown[] = [];
      const running = await adapter.start((x) => c.handler(x, seen));
      try {
        await c.check(await running.send(c.send), seen);
      } finally {
        await running.close();
      }
    });
  }
}
