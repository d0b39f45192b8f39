import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WatchService } from './server.js';

test('an origin on v3: 30 % of the collection route answers 500, the item route is 150 ms slower', async () => {
  const origin = await new WatchService({
    region: 'us-east-1',
    id: 'us-east-1/0',
    version: 'v3',
    seed: 1,
  }).start();
  const url = `http://127.0.0.1:${origin.port}`;
  try {
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200, 'health checks pass on a bad version');
    assert.equal(health.headers.get('x-lab-version'), 'v3');
    assert.equal(((await health.json()) as { version: string }).version, 'v3');

    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const method = i % 5 === 0 ? 'POST' : 'GET';
      const res = await fetch(`${url}/users/u${i}/items`, {
        method,
        body: method === 'POST' ? 'x' : undefined,
      });
      assert.equal(res.headers.get('x-lab-version'), 'v3');
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    const failed = statuses.filter((s) => s === 500).length;
    assert.ok(failed >= 20 && failed <= 40, `${failed} of 100 failed`);

    const start = performance.now();
    const put = await fetch(`${url}/users/u1/items/a`, { method: 'PUT', body: 'x' });
    assert.equal(put.status, 200, 'the item route does not fail');
    assert.ok(performance.now() - start >= 149, 'the item route waits 150 ms first');
    await put.arrayBuffer();
  } finally {
    await origin.close();
  }
});

test('the same seed fails the same requests; v1 fails none', async () => {
  const pattern = async (version: 'v1' | 'v3') => {
    const origin = await new WatchService({ region: 'r', id: 'r/0', version, seed: 7 }).start();
    try {
      let out = '';
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`http://127.0.0.1:${origin.port}/users/u/items`);
        assert.equal(res.headers.get('x-lab-version'), version);
        out += res.status === 500 ? 'x' : '.';
        await res.arrayBuffer();
      }
      return out;
    } finally {
      await origin.close();
    }
  };
  const first = await pattern('v3');
  assert.match(first, /x/);
  assert.equal(await pattern('v3'), first);
  assert.equal(await pattern('v1'), '.'.repeat(40));
});
