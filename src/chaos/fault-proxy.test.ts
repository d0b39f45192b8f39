import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { FaultProxy } from './fault-proxy.js';

async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

async function timedGet(url: string): Promise<{ ms: number; body?: string; error?: string }> {
  const start = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return { ms: performance.now() - start, body: await res.text() };
  } catch (e) {
    return { ms: performance.now() - start, error: (e as Error).name };
  }
}

test('fault proxy forwards, adds the round trip, cuts and heals the link', async () => {
  const { server, port } = await echoServer();
  const seen: string[] = [];
  const proxy = await new FaultProxy({
    target: { host: '127.0.0.1', port },
    rttMs: 100,
    onRequest: (line, delivered) => seen.push(`${line} ${delivered}`),
  }).start();
  try {
    const slow = await timedGet(`${proxy.url}/a`);
    assert.equal(slow.body, 'hello /a');
    assert.ok(slow.ms >= 100, `a request pays at least one round trip, took ${slow.ms}`);
    assert.deepEqual(seen, ['GET /a HTTP/1.1 true']);

    proxy.set({ cut: 'reset' });
    assert.ok((await timedGet(`${proxy.url}/b`)).error);
    proxy.set({ cut: 'blackhole' });
    assert.equal((await timedGet(`${proxy.url}/c`)).error, 'TimeoutError');

    proxy.set({ cut: false, rttMs: 0 });
    assert.equal((await timedGet(`${proxy.url}/d`)).body, 'hello /d');
  } finally {
    await proxy.close();
    server.closeAllConnections();
    server.close();
  }
});

test('fault proxy counts requests sent to a target that is gone', async () => {
  const { server, port } = await echoServer();
  server.close();
  const seen: string[] = [];
  const proxy = await new FaultProxy({
    target: { host: '127.0.0.1', port },
    onRequest: (line, delivered) => seen.push(`${line} ${delivered}`),
  }).start();
  try {
    assert.ok((await timedGet(`${proxy.url}/x`)).error);
    assert.deepEqual(seen, ['GET /x HTTP/1.1 false']);
  } finally {
    await proxy.close();
  }
});
