import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
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

test('a blackholed link holds bytes instead of dropping them: an open stream resumes whole at the heal, a new connection connects then', async () => {
  const received: string[] = [];
  const target = createNetServer((s) => s.on('data', (d) => received.push(String(d))));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  const port = (target.address() as { port: number }).port;
  const proxy = await new FaultProxy({ target: { host: '127.0.0.1', port }, rttMs: 20 }).start();
  const open = connect(proxy.port, '127.0.0.1');
  try {
    await once(open, 'connect');
    open.write('a');
    await until(() => received.join('') === 'a');

    proxy.set({ cut: 'blackhole' });
    open.write('b');
    open.write('c');
    const late = connect(proxy.port, '127.0.0.1');
    await once(late, 'connect');
    late.write('z');
    const abandoned = connect(proxy.port, '127.0.0.1');
    await once(abandoned, 'connect');
    abandoned.write('x');
    await until(() => proxy.openSockets === 4); // open and its upstream, late, abandoned
    abandoned.destroy();
    // A client that gave up during the cut holds nothing in the proxy (no descriptor kept until the heal).
    await until(() => proxy.openSockets === 3);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(received.join(''), 'a', 'nothing crosses while cut');

    proxy.set({ cut: false });
    open.write('d');
    await until(() => received.join('').length === 5);
    assert.equal(
      received.join('').replace('z', ''),
      'abcd',
      'the open stream lost nothing and kept its order',
    );
    assert.ok(received.join('').includes('z'), 'the connection opened during the cut got through');
    assert.ok(!received.join('').includes('x'), 'the one abandoned during the cut never reached the target');
    late.destroy();
  } finally {
    open.destroy();
    await proxy.close();
    target.close();
  }
});

async function until(ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
