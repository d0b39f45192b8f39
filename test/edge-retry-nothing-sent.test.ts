// Which non-idempotent requests the edge sends again (src/edge/README.md,
// "Retries"): any method when nothing reached an upstream (connect refused),
// a POST with an Idempotency-Key like an idempotent request, and a POST
// without one never once the origin may have read it. Real sockets; the
// origins count every request they read, by id, so "delivered once" is checked.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import {
  appendYaml,
  closeServer,
  getJson,
  startEdge,
  startOrigin,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

/** How the live us-east-1 origin (the other one refuses connections) treats the next requests. */
type Mode = 'answer' | 'crash-after-read' | 'close-reused' | 'close-idle';
let eastMode: Mode = 'answer';

interface Delivery {
  origin: string;
  method: string;
  id: string;
  key: string | undefined;
}
const deliveries: Delivery[] = [];
const deliveredTo = (id: string) => deliveries.filter((d) => d.id === id).map((d) => d.origin);

const servers: Server[] = [];
const edges: TestEdge[] = [];
let east: TestEdge;
let west: TestEdge;
let refusingOrigin = '';
let seq = 0;

function countingOrigin(name: string, mode: () => Mode) {
  const served = new WeakMap<Socket, number>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const m = mode();
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (m === 'close-reused' && n > 1) {
      // A keep-alive connection closed as the next request arrives, before the origin read it.
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      deliveries.push({ origin: name, method: req.method!, id: req.url!, key: key as string | undefined });
      if (m === 'crash-after-read') {
        // Read the whole request (a payment may be taken), then die without answering.
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': name });
      res.end(`${name} ${Buffer.concat(chunks).length}`);
      // The origin closes the connection once idle (a restart, a short idle timeout).
      if (m === 'close-idle') res.once('finish', () => setTimeout(() => req.socket.end(), 20));
    });
  };
}

before(async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  // Active checks every minute, so only the edge's own connect errors find the refusing origin.
  writeFileSync(cfg.file, readFileSync(cfg.file, 'utf8').replace('interval: 1s', 'interval: 60s'));
  appendYaml(
    cfg.file,
    [
      'edge:',
      '  retry: { bufferBodyBytes: 1024 }',
      '  passiveHealth: { consecutiveConnectFailures: 1 }',
      // East keeps believing west's edge is up after it stops (the last test).
      '  peerProbeInterval: 60s',
    ].join('\n'),
  );
  refusingOrigin = `http://127.0.0.1:${cfg.port(9101)}`; // nothing listens there
  servers.push(
    await startOrigin(
      cfg.port(9102),
      countingOrigin('east-9102', () => eastMode),
    ),
  );
  for (const p of [9201, 9202]) {
    servers.push(
      await startOrigin(
        cfg.port(p),
        countingOrigin(`west-${p}`, () => 'answer'),
      ),
    );
  }
  // West first: east probes it once at start, then only every minute.
  west = await startEdge(cfg.file, 'us-west-2');
  east = await startEdge(cfg.file, 'us-east-1');
  edges.push(east, west);
  const seen = () => east.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
  assert.ok((await waitFor(seen, 5000)) >= 0, 'east reaches the us-west-2 edge');
});

after(async () => {
  for (const e of edges) await e.close();
  for (const s of servers) await closeServer(s);
});

async function send(method: string, opts: { key?: string; body?: string; from?: string } = {}) {
  const id = `/orders/${++seq}`;
  const headers: Record<string, string> = { host: 'api.example.com', 'x-meridian-debug': 'attempts' };
  if (opts.from !== undefined) headers['x-forwarded-for'] = opts.from;
  if (opts.key !== undefined) headers['idempotency-key'] = opts.key;
  const res = await request(`${east.url}${id}`, {
    method: method as 'POST',
    headers,
    body: opts.body ?? (method === 'GET' ? undefined : 'amount=42'),
  });
  const text = await res.body.text();
  return {
    id,
    status: res.statusCode,
    region: res.headers['x-meridian-region'],
    attempts: String(res.headers['x-meridian-attempts'] ?? ''),
    text,
  };
}

test('a POST whose origin refuses the connection is served by the other origin, delivered once', async () => {
  let refused = false;
  // The origins are picked at random: send until one POST met the refusing origin (it is then marked down).
  for (let i = 0; i < 30 && !refused; i++) {
    const r = await send('POST');
    assert.equal(r.status, 200, `${r.id}: ${r.text} (${r.attempts})`);
    assert.deepEqual(deliveredTo(r.id), ['east-9102'], `${r.id} delivered exactly once`);
    refused = r.attempts.includes(refusingOrigin);
  }
  assert.ok(refused, 'a POST met the refusing origin and was sent on');
  const health = await getJson(`${east.url}/meridian/health`);
  const down = health.body.origins.find((o: { url: string }) => o.url === refusingOrigin);
  assert.equal(down?.healthy, false, 'the refusing origin is marked down');
});

test('a POST without Idempotency-Key is not retried once the origin has read it', async () => {
  eastMode = 'crash-after-read';
  const r = await send('POST');
  assert.equal(r.status, 502, r.text);
  assert.equal(r.region, 'us-east-1');
  assert.deepEqual(deliveredTo(r.id), ['east-9102'], 'the origin read it once, nobody else saw it');
});

test('the same POST with Idempotency-Key is retried in us-west-2, the key forwarded unchanged', async () => {
  eastMode = 'crash-after-read';
  const key = 'order-7f3a9c';
  const r = await send('POST', { key });
  assert.equal(r.status, 200, `${r.text} (${r.attempts})`);
  assert.equal(r.region, 'us-west-2');
  const seen = deliveries.filter((d) => d.id === r.id);
  assert.equal(seen.length, 2, 'delivered to the crashing origin, then once in us-west-2');
  assert.equal(seen[0].origin, 'east-9102');
  assert.match(seen[1].origin, /^west-/);
  assert.deepEqual(
    seen.map((d) => d.key),
    [key, key],
    'both deliveries carry the client key',
  );
});

test('a PATCH with Idempotency-Key is retried too', async () => {
  eastMode = 'crash-after-read';
  const r = await send('PATCH', { key: 'patch-1' });
  assert.deepEqual([r.status, r.region], [200, 'us-west-2'], r.attempts);
});

test('an origin closing an idle keep-alive connection between requests does not fail a POST', async () => {
  eastMode = 'close-idle';
  const warm = await send('GET');
  assert.equal(warm.status, 200);
  // The origin closes its side 20 ms after answering; the edge sees it close while idle.
  const pool = () => east.edge.runtime.services.get('api.example.com')!.origins!.origins[1].upstream.size;
  assert.ok((await waitFor(() => pool() === 0, 5000)) >= 0, 'the edge dropped the closed connection');
  const r = await send('POST');
  assert.deepEqual([r.status, r.region], [200, 'us-east-1'], r.text);
  assert.deepEqual(deliveredTo(r.id), ['east-9102']);
});

test('a keep-alive connection closed under a keyed POST is retried on a fresh connection', async () => {
  eastMode = 'close-reused';
  const warm = await send('GET');
  assert.equal(warm.status, 200);
  const r = await send('POST', { key: 'order-reused-1' });
  assert.deepEqual([r.status, r.region], [200, 'us-east-1'], `${r.text} (${r.attempts})`);
  assert.deepEqual(deliveredTo(r.id), ['east-9102'], 'read once, on the fresh connection');
});

test('the same close under a POST without a key is a 502: it may have been read', async () => {
  eastMode = 'close-reused';
  const warm = await send('GET');
  assert.equal(warm.status, 200);
  const r = await send('POST');
  assert.equal(r.status, 502, `${r.text} (${r.attempts})`);
  assert.deepEqual(deliveredTo(r.id), [], 'this origin never read it, but the edge cannot know that');
});

test('a POST on its way to a peer edge that refuses the connection is served here, delivered once', async () => {
  eastMode = 'answer';
  await west.close();
  edges.splice(edges.indexOf(west), 1);
  const peer = east.edge.runtime.peers.byRegion.get('us-west-2')!;
  assert.ok(
    (await waitFor(() => peer.upstream.size === 0, 5000)) >= 0,
    'east dropped its connections to west',
  );
  assert.equal(peer.reachable, true, 'east has not probed west since (peerProbeInterval: 60s)');
  // A Seattle client's home is us-west-2: east proxies it there, and the connection is refused.
  const r = await send('POST', { from: '24.16.0.1' });
  assert.deepEqual([r.status, r.region], [200, 'us-east-1'], `${r.text} (${r.attempts})`);
  assert.match(r.attempts, /^us-west-2 \S+ 502 .*, us-east-1 /, 'tried west first');
  assert.deepEqual(deliveredTo(r.id), ['east-9102']);
});
