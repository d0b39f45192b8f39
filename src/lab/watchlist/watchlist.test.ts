import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { WatchService } from './server.js';
import { divergentKeys, type Entry, WatchStore } from './store.js';

const log = pino({ level: 'silent' });

test('last writer wins, and a tombstone beats an older put', () => {
  const a = new WatchStore('a');
  const b = new WatchStore('b');
  const put = a.put('u1', 'm1', 'Alien');
  const del = b.delete('u1', 'm1');
  const later = { ...del, ts: put.ts + 10 };
  for (const s of [a, b]) {
    s.apply(put);
    s.apply(later);
  }
  assert.deepEqual(a.list('u1'), []);
  assert.deepEqual(divergentKeys([[...a.entries()], [...b.entries()]]), []);
  a.put('u1', 'm2', 'Heat');
  assert.deepEqual(divergentKeys([[...a.entries()], [...b.entries()]]), ['u1/m2']);
});

async function until(check: () => Promise<boolean>, ms = 3000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('condition not met in time');
}

test('writes are copied to peers, faults fail requests but not health, a new origin bootstraps', async () => {
  const a = await new WatchService({ region: 'r1', id: 'r1/0', log }).start();
  const b = await new WatchService({
    region: 'r2',
    id: 'r2/0',
    log,
    peers: [`http://127.0.0.1:${a.port}`],
  }).start();
  let c: WatchService | undefined;
  try {
    const bUrl = `http://127.0.0.1:${b.port}`;
    const put = await fetch(`${bUrl}/users/u%201/items/m1`, { method: 'PUT', body: 'Alien' });
    assert.equal(put.status, 200);
    assert.equal(put.headers.get('x-lab-region'), 'r2');
    await until(async () => a.store.list('u 1').length === 1);
    const list = await (await fetch(`http://127.0.0.1:${a.port}/users/u%201/items`)).json();
    assert.deepEqual(list, { user: 'u 1', items: [{ id: 'm1', value: 'Alien' }] });

    await fetch(`${bUrl}/_lab/fault`, { method: 'POST', body: JSON.stringify({ errorRate: 1 }) });
    assert.equal((await fetch(`${bUrl}/users/x/items`)).status, 500);
    assert.equal((await fetch(`${bUrl}/health`)).status, 200);
    await fetch(`${bUrl}/_lab/fault`, { method: 'DELETE' });

    c = await new WatchService({ region: 'r1', id: 'r1/1', log, peers: [bUrl], bootstrap: true }).start();
    const dump = (await (await fetch(`http://127.0.0.1:${c.port}/_lab/dump`)).json()) as Entry[];
    assert.equal(dump.length, 1);
    assert.deepEqual(divergentKeys([[...a.store.entries()], [...b.store.entries()], dump]), []);
  } finally {
    await Promise.all([a.close(), b.close(), c?.close()]);
  }
});
