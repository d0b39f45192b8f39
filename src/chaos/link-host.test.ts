import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { FaultProxy } from './fault-proxy.js';
import { LinkHost, selectLinks } from './link-host.js';

test('link host runs proxies and cuts them by region through its admin API', async () => {
  const server = createServer((_, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const host = await new LinkHost([
    { name: 'edge:a', from: '*', to: 'a', targetPort: port, rttMs: 0 },
    { name: 'edge:b', from: '*', to: 'b', targetPort: port, rttMs: 0 },
  ]).start();
  try {
    const { admin, ports } = host.describe();
    assert.equal(await (await fetch(`http://127.0.0.1:${ports['edge:a']}/`)).text(), 'ok');
    const res = await fetch(`http://${admin}/links?region=a`, {
      method: 'POST',
      body: JSON.stringify({ cut: 'reset' }),
    });
    assert.deepEqual(
      ((await res.json()) as { name: string; cut: string }[]).map((l) => [l.name, l.cut]),
      [['edge:a', 'reset']],
    );
    await assert.rejects(fetch(`http://127.0.0.1:${ports['edge:a']}/`));
    assert.equal(await (await fetch(`http://127.0.0.1:${ports['edge:b']}/`)).text(), 'ok');
  } finally {
    await host.close();
    server.close();
  }
});

test('links are chosen by the regions they touch, or by their from and to sides', () => {
  const specs = [
    { name: 'control:a>b', from: 'a', to: 'b', targetPort: 1, rttMs: 0 },
    { name: 'control:b>a', from: 'b', to: 'a', targetPort: 2, rttMs: 0 },
    { name: 'control:c>b', from: 'c', to: 'b', targetPort: 3, rttMs: 0 },
    { name: 'edge:c', from: '*', to: 'c', targetPort: 4, rttMs: 0 },
  ];
  const names = (q: string) => selectLinks(specs, new URLSearchParams(q)).map((s) => s.name);
  assert.deepEqual(names(''), ['control:a>b', 'control:b>a', 'control:c>b', 'edge:c']);
  assert.deepEqual(names('region=a'), ['control:a>b', 'control:b>a']);
  assert.deepEqual(names('region=c'), ['control:c>b', 'edge:c']);
  assert.deepEqual(names('from=c&to=b'), ['control:c>b']);
  assert.deepEqual(names('to=b'), ['control:a>b', 'control:c>b']);
});

test('with sites, a link goes to the source site address on its own port and is delivered from the destination gateway', async () => {
  const server = createServer((_, res) => res.end('target'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  // Loopback aliases stand in for the namespaces' addresses; the relay (relay-main.ts) is a plain proxy.
  const host = await new LinkHost([{ name: 'edge:a>b', from: 'a', to: 'b', targetPort: port, rttMs: 0 }], {
    a: { address: '127.0.0.2', gateway: '127.0.0.3' },
    b: { address: '127.0.0.4', gateway: '127.0.0.5' },
  }).start();
  const P = host.describe().ports['edge:a>b'];
  const relay = await new FaultProxy({
    listen: { host: '127.0.0.2', port: P },
    target: { host: '127.0.0.5', port: P },
  }).start();
  try {
    assert.equal(await (await fetch(`http://127.0.0.1:${P}/`)).text(), 'target');
    await relay.close();
    await assert.rejects(fetch(`http://127.0.0.1:${P}/`), 'without the relay the link carries nothing');
  } finally {
    await relay.close().catch(() => {});
    await host.close();
    server.close();
  }
});
