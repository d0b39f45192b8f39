import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { test } from 'node:test';
import type { Operation } from './operations.js';
import { send } from './send.js';
import { type EdgeTarget, UserClient } from './user-client.js';

const user = { id: 'u1', address: '203.0.113.7', place: 'US-VA', location: { lat: 38.9, lon: -77.4 } };

async function listen(handler: (req: IncomingMessage, destroy: () => void) => [number, string] | null) {
  const seen: { method: string; key: string | undefined }[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method!, key: req.headers['idempotency-key'] as string | undefined });
      const answer = handler(req, () => req.socket.destroy());
      if (answer) res.writeHead(answer[0], { 'x-lab-region': answer[1] }).end('{"item":"x"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A URL nothing listens on: connects are refused. */
async function refusing(): Promise<string> {
  const s = await listen(() => null);
  await s.close();
  return s.url;
}

const get: Operation = { method: 'GET', path: '/users/u1/items', kind: 'idempotent' };
const post: Operation = { method: 'POST', path: '/users/u1/items', body: 't', kind: 'post' };
const keyed: Operation = { ...post, idempotencyKey: 'k1', kind: 'postWithKey' };

test('send: next address on a refused connect, retry rules on a dead connection, re-resolve when all fail', async () => {
  const ok = await listen(() => [200, 'west']);
  const dying = await listen((_req, destroy) => {
    destroy();
    return null;
  });
  const dead = await refusing();
  const t = (region: string, url: string): EdgeTarget => ({ region, url });
  const clients: UserClient[] = [];
  const run = async (op: Operation, answers: EdgeTarget[][]) => {
    const client = new UserClient(user, 'east', '', () => 0);
    clients.push(client);
    let resolves = 0;
    const sent = await send(client, op, {
      resolve: async (_c, fresh) => answers[fresh ? ++resolves : 0] ?? answers[answers.length - 1],
      headers: { host: 'api.example.com' },
      timeoutMs: 5000,
    });
    return {
      status: sent.answer?.status ?? 0,
      region: sent.target?.region,
      tries: sent.tries,
      reason: sent.reason,
      resolves,
    };
  };
  try {
    assert.deepEqual(await run(post, [[t('east', dead), t('west', ok.url)]]), {
      status: 200,
      region: 'west',
      tries: 2,
      reason: '',
      resolves: 0,
    });
    assert.deepEqual(await run(get, [[t('east', dead)], [t('west', ok.url)]]), {
      status: 200,
      region: 'west',
      tries: 2,
      reason: '',
      resolves: 1,
    });
    assert.deepEqual(await run(get, [[t('east', dead)]]), {
      status: 0,
      region: 'east',
      tries: 1,
      reason: 'connect failed',
      resolves: 1,
    });
    ok.seen.length = 0;
    assert.deepEqual(await run(get, [[t('east', dying.url), t('west', ok.url)]]), {
      status: 200,
      region: 'west',
      tries: 2,
      reason: '',
      resolves: 0,
    });
    assert.deepEqual(await run(keyed, [[t('east', dying.url), t('west', ok.url)]]), {
      status: 200,
      region: 'west',
      tries: 2,
      reason: '',
      resolves: 0,
    });
    assert.deepEqual(ok.seen.at(-1), { method: 'POST', key: 'k1' }, 'the retry carries the same key');
    dying.seen.length = 0;
    const before = ok.seen.length;
    assert.deepEqual(await run(post, [[t('east', dying.url), t('west', ok.url)]]), {
      status: 0,
      region: 'east',
      tries: 1,
      reason: 'connection died; not safe to retry',
      resolves: 0,
    });
    assert.equal(dying.seen.length, 1, 'the POST reached the server once');
    assert.equal(ok.seen.length, before, 'and was not sent anywhere else');
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([ok.close(), dying.close()]);
  }
});

test('user client: keeps its connection, prefers it, and pays a round trip per connect and per request', async () => {
  const west = await listen(() => [200, 'west']);
  const east = await listen(() => [200, 'east']);
  const rttMs = 40;
  const client = new UserClient(user, 'east', '', () => rttMs);
  const deps = {
    resolve: async () => [
      { region: 'east', url: east.url },
      { region: 'west', url: west.url },
    ],
    headers: {},
    timeoutMs: 5000,
  };
  try {
    let start = performance.now();
    const first = await send(client, get, deps);
    assert.equal(first.target?.region, 'east');
    assert.ok(performance.now() - start >= 2 * rttMs - 2, 'a new connection: handshake and request');
    assert.ok(client.connected(east.url) && !client.connected(west.url));
    start = performance.now();
    await send(client, get, deps);
    assert.ok(performance.now() - start >= rttMs - 2, 'a kept connection: the request round trip');
    assert.equal(east.seen.length, 2);

    // A user who failed over holds a connection to the other region and keeps using it.
    const movedOver = new UserClient(user, 'east', '', () => 0);
    await movedOver.send(west.url, { method: 'GET', path: '/', headers: {}, timeoutMs: 5000 });
    assert.equal((await send(movedOver, get, deps)).target?.region, 'west');
    await movedOver.close();
  } finally {
    await client.close();
    await Promise.all([west.close(), east.close()]);
  }
});
