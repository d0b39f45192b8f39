import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { H1Pool } from './pool.js';
import { probe } from './probe.js';

const options = {
  connections: 1,
  connectTimeout: 500,
  headersTimeout: 5000,
  idleTimeout: 5000,
  keepAliveTimeout: 5000,
};

test('probe: status through the pool, never queued behind traffic; 0 on timeout or refusal', async () => {
  const held: ServerResponse[] = [];
  const hosts: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    hosts.push(String(req.headers.host));
    if (req.url === '/hold') held.push(res);
    else if (req.url === '/slow') setTimeout(() => res.end('late'), 300);
    else res.writeHead(req.url === '/health' ? 200 : 503).end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const pool = new H1Pool(`http://127.0.0.1:${port}`, options);
  try {
    // Traffic holds the only connection the pool allows, and a request queues behind it.
    const noop = { onHeaders: () => true, onData: () => true, onComplete() {}, onError() {} };
    pool.request({ method: 'GET', path: '/hold', headers: ['host', 'x'], body: null, chunked: false }, noop);
    pool.request({ method: 'GET', path: '/hold', headers: ['host', 'x'], body: null, chunked: false }, noop);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await probe(pool, '/health', 1000), 200);
    assert.equal(hosts.at(-1), `127.0.0.1:${port}`);
    assert.equal(await probe(pool, '/down', 1000), 503);
    assert.equal(await probe(pool, '/slow', 100), 0);
  } finally {
    for (const res of held) res.end();
    pool.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  const refused = new H1Pool(`http://127.0.0.1:${port}`, options);
  assert.equal(await probe(refused, '/health', 1000), 0);
  refused.close();
});
