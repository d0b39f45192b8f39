import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryStore } from '../../replication/memory-store.js';
import { sourceName, WatchService } from './server.js';
import { divergentKeys, type Entry, entryOf, eventOf, itemKey } from './store.js';
import { createHttpTransport, type ReplicateBody } from './transport.js';

const log = pino({ level: 'silent' });

test('items map to cache keys and back, names with slashes included', async () => {
  const store = new MemoryStore();
  const hlc = '000001700000000-00000-us-east-1_0';
  store.applySync({ op: 'set', key: itemKey('u/1', 'm 2/x'), value: 'Alien', hlc, at: 0 });
  const [[key, record]] = [...store.scan()];
  const e = entryOf(key, record)!;
  assert.deepEqual(e, {
    user: 'u/1',
    item: 'm 2/x',
    value: 'Alien',
    ts: 1_700_000_000,
    writer: 'us-east-1_0',
    hlc,
  });
  assert.deepEqual(eventOf(e), { op: 'set', key, value: 'Alien', hlc, at: eventOf(e)!.at });
  assert.equal(eventOf({ ...e, hlc: 'not a stamp' }), null);
  assert.equal(sourceName('us-east-1/0'), 'us-east-1_0');
});

test('divergentKeys compares final states; a tombstone and a missing key agree', () => {
  const e = (item: string, value: string | null): Entry => ({
    user: 'u',
    item,
    value,
    ts: 1,
    writer: 'a',
    hlc: '',
  });
  assert.deepEqual(divergentKeys([[e('m1', null)], []]), []);
  assert.deepEqual(divergentKeys([[e('m1', 'x'), e('m2', 'y')], [e('m1', 'x')]]), ['u/m2']);
});

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${what}: not in time`);
}

/** A TCP link between two origins that can be cut (connections dropped, new ones refused). */
async function link(targetPort: number) {
  let cut = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (cut) return client.destroy();
    const upstream = createConnection(targetPort);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    heal() {
      cut = false;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
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
    const stamp = put.headers.get('x-lab-stamp');
    assert.match(stamp ?? '', /^\d{15}-\d{5}-r2_0$/, 'the write names its HLC stamp');
    await until(() => a.list('u 1').length === 1, 'copied to a');
    const list = await (await fetch(`http://127.0.0.1:${a.port}/users/u%201/items`)).json();
    assert.deepEqual(list, { user: 'u 1', items: [{ id: 'm1', value: 'Alien', stamp }] });

    await fetch(`${bUrl}/_lab/fault`, { method: 'POST', body: JSON.stringify({ errorRate: 1 }) });
    assert.equal((await fetch(`${bUrl}/users/x/items`)).status, 500);
    assert.equal((await fetch(`${bUrl}/health`)).status, 200);
    await fetch(`${bUrl}/_lab/fault`, { method: 'DELETE' });

    const bad = await fetch(`http://127.0.0.1:${a.port}/_lab/replicate`, { method: 'POST', body: '{}' });
    assert.equal(bad.status, 400);

    c = await new WatchService({ region: 'r1', id: 'r1/1', log, peers: [bUrl], bootstrap: true }).start();
    const dump = (await (await fetch(`http://127.0.0.1:${c.port}/_lab/dump`)).json()) as Entry[];
    assert.equal(dump.length, 1);
    assert.equal(dump[0].writer, 'r2_0');
    assert.deepEqual(divergentKeys([[...a.entries()], [...b.entries()], dump]), []);
  } finally {
    await Promise.all([a.close(), b.close(), c?.close()]);
  }
});

test('an origin whose clock runs ahead (the MERIDIAN_CLOCK_OFFSET_MS hook): its writes wait at the others until their clocks are within 500 ms', async () => {
  const a = await new WatchService({ region: 'r1', id: 'r1/0', log }).start();
  const b = await new WatchService({
    region: 'r2',
    id: 'r2/0',
    log,
    peers: [`http://127.0.0.1:${a.port}`],
    now: () => Date.now() + 2000,
  }).start();
  try {
    const putAt = Date.now();
    const put = await fetch(`http://127.0.0.1:${b.port}/users/u/items/m1`, { method: 'PUT', body: 'Alien' });
    assert.equal(put.status, 200);
    await until(() => a.list('u').length === 1, 'copied after the hold');
    assert.ok(Date.now() >= putAt + 1500, "not applied before a's clock was within 500 ms of b's stamp");
    const status = await (await fetch(`http://127.0.0.1:${a.port}/_lab/status`)).json();
    assert.equal(status.replication.clockAhead, 1);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('POST: the origin names the item; a repeated Idempotency-Key gets the first result, at any origin with the copy', async () => {
  const a = await new WatchService({ region: 'r1', id: 'r1/0', log }).start();
  const b = await new WatchService({
    region: 'r2',
    id: 'r2/0',
    log,
    peers: [`http://127.0.0.1:${a.port}`],
  }).start();
  const post = async (s: WatchService, body: string, key?: string) => {
    const res = await fetch(`http://127.0.0.1:${s.port}/users/u1/items`, {
      method: 'POST',
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: await res.json() };
  };
  try {
    const first = await post(b, 'Alien', 'key-1');
    assert.equal(first.status, 201);
    assert.equal(first.replayed, null);
    assert.match(first.body.item, /^k-[0-9a-f]{20}$/);
    const again = await post(b, 'Alien (sent twice)', 'key-1');
    assert.deepEqual(again, { ...first, replayed: 'true' }, 'the first result, nothing written');
    await until(() => a.list('u1').length === 1, 'copied to a');
    const elsewhere = await post(a, 'Alien', 'key-1');
    assert.deepEqual(elsewhere, { ...first, replayed: 'true' }, 'another region dedupes by the copied item');
    assert.deepEqual(a.list('u1'), [{ id: first.body.item, value: 'Alien' }]);

    const [p1, p2] = [await post(b, 'Brazil'), await post(b, 'Brazil')];
    assert.equal(p1.status, 201);
    assert.notEqual(p1.body.item, p2.body.item, 'without a key every POST creates an item');
    assert.equal(b.list('u1').length, 3);

    await fetch(`http://127.0.0.1:${b.port}/users/u1/items/${first.body.item}`, { method: 'DELETE' });
    const afterDelete = await post(b, 'Alien', 'key-1');
    assert.equal(afterDelete.replayed, 'true');
    assert.ok(
      !b.list('u1').some((i) => i.id === first.body.item),
      'a replay does not bring a deleted item back',
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('split brain through a cut link: nothing crosses; after the heal no acknowledged write is lost and no key diverges', async () => {
  // Start with placeholders for the peers: each origin reaches the other through a link.
  const east = await new WatchService({ region: 'east', id: 'east/0', log }).start();
  const west = await new WatchService({ region: 'west', id: 'west/0', log }).start();
  const toWest = await link(west.port);
  const toEast = await link(east.port);
  await Promise.all([east.close(), west.close()]);
  const e = await new WatchService({
    region: 'east',
    id: 'east/0',
    log,
    port: east.port,
    peers: [toWest.url],
  }).start();
  const w = await new WatchService({
    region: 'west',
    id: 'west/0',
    log,
    port: west.port,
    peers: [toEast.url],
  }).start();
  const urlOf = (s: WatchService) => `http://127.0.0.1:${s.port}`;
  const acked = new Map<string, string | null>();
  const write = async (s: WatchService, user: string, item: string, value: string | null) => {
    const res = await fetch(`${urlOf(s)}/users/${user}/items/${item}`, {
      method: value === null ? 'DELETE' : 'PUT',
      body: value ?? undefined,
    });
    assert.equal(res.status, 200);
    acked.set(`${user}/${item}`, value);
  };
  const status = async (s: WatchService) =>
    (await (await fetch(`${urlOf(s)}/_lab/status`)).json()) as {
      pending: number;
      replication: { conflicts: number };
    };
  try {
    await write(e, 'u1', 'before', 'both see it');
    await until(() => w.list('u1').length === 1, 'copied before the cut');

    toWest.cut();
    toEast.cut();
    for (let i = 0; i < 50; i++) {
      await write(e, 'u1', `e${i}`, `east ${i}`);
      await write(w, 'u2', `w${i}`, `west ${i}`);
    }
    await write(e, 'u3', 'same', 'east wrote first');
    await new Promise((r) => setTimeout(r, 5));
    await write(w, 'u3', 'same', 'west wrote last');
    await write(w, 'u1', 'before', null);
    // Give a working link ample time, then check nothing crossed.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(w.list('u1'), [], 'east writes did not reach west (and west deleted the one it had)');
    assert.equal(e.list('u1').length, 51, 'west delete did not reach east');
    assert.equal(e.list('u2').length, 0, 'west writes did not reach east');
    assert.ok((await status(e)).pending > 0 && (await status(w)).pending > 0, 'writes wait on both sides');

    toWest.heal();
    toEast.heal();
    await until(
      async () => (await status(e)).pending === 0 && (await status(w)).pending === 0,
      'queues drained',
    );
    const copies = [[...e.entries()], [...w.entries()]];
    assert.deepEqual(divergentKeys(copies), []);
    for (const [key, value] of acked) {
      const [user, item] = key.split('/');
      for (const s of [e, w]) {
        const got = s.list(user).find((x) => x.id === item)?.value ?? null;
        assert.equal(
          got,
          key === 'u3/same' ? 'west wrote last' : value,
          `${key} in ${s === e ? 'east' : 'west'}`,
        );
      }
    }
    assert.ok((await status(w)).replication.conflicts >= 1, 'the older concurrent write lost at west');
  } finally {
    await Promise.all([e.close(), w.close(), toWest.close(), toEast.close()]);
  }
});

test('the HTTP transport resends until the peer took the messages, in order, and delivers in order', async () => {
  const got: string[] = [];
  let refuse = 3;
  const peer = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (refuse-- > 0) return res.writeHead(500).end();
      got.push(...(JSON.parse(body) as ReplicateBody).messages);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(peer.address() as { port: number }).port}`;
  const sender = createHttpTransport({ self: 'a', peers: [url], log, batch: 4, retryDelayMs: 10 });
  const receiver = createHttpTransport({ self: 'b', peers: [], log });
  try {
    for (let i = 0; i < 10; i++) await sender.publish('a', Buffer.from(`m${i}`));
    await assert.rejects(sender.publish('b', Buffer.from('x')), /only a's messages/);
    await until(() => sender.pending() === 0, 'delivered');
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );

    // The receiving side: one source's messages are handled one after the other, in order.
    const handled: string[] = [];
    await assert.rejects(receiver.receive({ source: 'a', messages: ['m0'] }), /no subscriber/);
    await receiver.subscribe('a', 'b', async (data) => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      handled.push(Buffer.from(data).toString());
    });
    await Promise.all([
      receiver.receive({ source: 'a', messages: ['m1', 'm2'] }),
      receiver.receive({ source: 'a', messages: ['m3'] }),
      receiver.receive({ source: 'a', messages: ['m4', 'm5'] }),
    ]);
    assert.deepEqual(handled, ['m1', 'm2', 'm3', 'm4', 'm5']);
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
    await new Promise((r) => peer.close(r));
  }
});
