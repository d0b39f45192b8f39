import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { LinkHost } from './link-host.js';

test('link host runs proxies and cuts them by region through its admin API', async () => {
  const server = createServer((_, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const host = await new LinkHost([
    { name: 'edge:a', region: 'a', targetPort: port, rttMs: 0 },
    { name: 'edge:b', region: 'b', targetPort: port, rttMs: 0 },
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
