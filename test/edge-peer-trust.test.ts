// Peer trust at the edge, tried as an attacker would: x-meridian-* headers
// from a client change nothing and never reach an origin; a hop is honoured
// only when a peer edge signed it with the shared key (fresh, right key, right
// request); trust.header is the header the client address is read from.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Client, request } from 'undici';
import { signHop } from '../src/edge/peer-auth.js';
import {
  appendYaml,
  closeServer,
  echo,
  holdingOrigin,
  startEdge,
  startOrigin,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const HOST = 'api.example.com';
const SEATTLE = '24.16.0.1';
const KEY = 'peer-key-for-tests-0123456789abcdef';
const ENV = 'MERIDIAN_TEST_PEER_KEY';
process.env[ENV] = KEY;

interface Echoed {
  method: string;
  headers: Record<string, string>;
}

async function send(url: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await request(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { host: HOST, ...headers },
    body,
  });
  const text = await res.body.text();
  const json = String(res.headers['content-type']).startsWith('application/json');
  return {
    status: res.statusCode,
    region: String(res.headers['x-meridian-region']),
    echoed: (res.statusCode === 200 && json ? JSON.parse(text) : null) as Echoed | null,
  };
}

/** Sets a region's dial to 0 in every edge's snapshot, as control would: its clients belong elsewhere now. */
function evacuate(edges: TestEdge[], region: string): void {
  for (const edge of edges) {
    const snap = edge.edge.runtime.snapshot;
    const regions = new Map(snap.regions);
    regions.set(region, { ...regions.get(region)!, dial: 0 });
    edge.edge.runtime.snapshot = { ...snap, version: snap.version + 1000, regions };
  }
}

async function twoEdges(extraYaml: string, peerKey = true) {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  if (extraYaml !== '') appendYaml(cfg.file, extraYaml);
  const origins: Server[] = [];
  for (const p of [9101, 9102, 9201, 9202]) origins.push(await startOrigin(cfg.port(p), echo));
  const east = await startEdge(cfg.file, 'us-east-1', { peerKey });
  const west = await startEdge(cfg.file, 'us-west-2', { peerKey });
  const sees = (a: TestEdge, b: string) => () => a.edge.runtime.peers.byRegion.get(b)!.okAt > 0;
  assert.ok((await waitFor(sees(east, 'us-west-2'), 5000)) >= 0, 'us-east-1 reaches us-west-2');
  assert.ok((await waitFor(sees(west, 'us-east-1'), 5000)) >= 0, 'us-west-2 reaches us-east-1');
  return {
    cfg,
    east,
    west,
    async close() {
      await east.close();
      await west.close();
      for (const o of origins) await closeServer(o);
    },
  };
}

describe('without a peer key: every x-meridian-* header from anyone is stripped', () => {
  let pair: Awaited<ReturnType<typeof twoEdges>>;
  before(async () => {
    pair = await twoEdges('', false);
    evacuate([pair.east, pair.west], 'us-east-1');
  });
  after(() => pair.close());

  test('x-meridian-hop does not pin a client to an evacuated region (fast path and llhttp path)', async () => {
    const plain = await send(pair.east.url, '/pin', {});
    assert.equal(plain.region, 'us-west-2', 'an evacuated region sends its clients away');
    const get = await send(pair.east.url, '/pin', { 'x-meridian-hop': '1' });
    assert.equal(get.status, 200);
    assert.equal(get.region, 'us-west-2', 'GET with x-meridian-hop is not served locally');
    const post = await send(pair.east.url, '/pin', { 'x-meridian-hop': '1' }, 'a body goes through llhttp');
    assert.equal(post.status, 200);
    assert.equal(post.region, 'us-west-2', 'POST with x-meridian-hop is not served locally');
  });

  test('no origin ever sees a client-sent x-meridian-* header, locally or across the isthmus', async () => {
    const forged = {
      'x-meridian-hop': '1',
      'x-meridian-priority': 'critical',
      'x-meridian-peer-sig': 't=1;v1=00',
      'x-meridian-anything': 'x',
      'x-meridian-debug': 'attempts',
    };
    const local = await send(pair.west.url, '/h', forged);
    const remote = await send(pair.east.url, '/h', forged);
    for (const r of [local, remote]) {
      const leaked = Object.keys(r.echoed!.headers).filter((h) => h.startsWith('x-meridian-'));
      assert.deepEqual(leaked, [], 'the origin received no x-meridian-* header');
      assert.equal(r.region, 'us-west-2');
    }
  });

  test('without a key a hop is not honoured, and a request that passed this edge before is refused (no loop)', async () => {
    const looped = await send(pair.west.url, '/loop', { via: '1.1 meridian-us-west-2' });
    assert.equal(looped.status, 508);
    assert.equal(looped.region, 'us-west-2');
  });
});

describe('with a peer key: a hop is honoured only when signed', () => {
  let pair: Awaited<ReturnType<typeof twoEdges>>;
  before(async () => {
    pair = await twoEdges(`edge:\n  peers: { key: "env:${ENV}", maxSkew: 30s }`);
  });
  after(() => pair.close());

  const hop = (key: string, path: string, opts: { at?: number; method?: string; host?: string } = {}) =>
    signHop(key, opts.method ?? 'GET', path, opts.host ?? HOST, opts.at ?? Date.now());

  test('the isthmus works: us-east-1 signs, us-west-2 verifies (Seattle client)', async () => {
    const res = await request(`${pair.east.url}/isthmus`, {
      headers: { host: HOST, 'x-forwarded-for': SEATTLE, 'x-meridian-debug': 'attempts' },
    });
    const body = (await res.body.json()) as Echoed;
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-meridian-region'], 'us-west-2', 'served at us-west-2 (hop honoured)');
    assert.equal(
      String(res.headers['x-meridian-attempts']).split(',').length,
      1,
      'one attempt, no ping-pong',
    );
    assert.deepEqual(
      Object.keys(body.headers).filter((h) => h.startsWith('x-meridian-')),
      [],
      'the signature and hop are not passed to the origin',
    );
  });

  test('a correctly signed hop is served where it lands, even in an evacuated region', async () => {
    evacuate([pair.east, pair.west], 'us-west-2');
    const ok = await send(pair.west.url, '/signed', hop(KEY, '/signed'));
    assert.equal(ok.status, 200);
    assert.equal(ok.region, 'us-west-2');
    const post = await send(pair.west.url, '/signed', hop(KEY, '/signed', { method: 'POST' }), 'body');
    assert.equal(post.region, 'us-west-2', 'signed POST (llhttp path) honoured too');
  });

  test('a bad signature, a stale or future timestamp, a wrong key or another request is not honoured', async () => {
    const cases: [string, Record<string, string>][] = [
      ['unsigned', { 'x-meridian-hop': '1' }],
      ['wrong key', hop('another-key-0123456789abcdef', '/bad')],
      ['stale (31 s old)', hop(KEY, '/bad', { at: Date.now() - 31_000 })],
      ['future (31 s ahead)', hop(KEY, '/bad', { at: Date.now() + 31_000 })],
      ['signed for another path', hop(KEY, '/other')],
      ['signed for another method', hop(KEY, '/bad', { method: 'DELETE' })],
      ['signed for another host', hop(KEY, '/bad', { host: 'evil.example.com' })],
      ['garbage signature', { 'x-meridian-hop': '1', 'x-meridian-peer-sig': `t=${Date.now()};v1=zz` }],
      ['hop value changed', { ...hop(KEY, '/bad'), 'x-meridian-hop': '2' }],
      ['header added', { ...hop(KEY, '/bad'), 'x-meridian-priority': 'critical' }],
    ];
    for (const [name, headers] of cases) {
      const r = await send(pair.west.url, '/bad', headers);
      assert.equal(r.status, 200, name);
      assert.equal(r.region, 'us-east-1', `${name}: not served in the evacuated region`);
    }
  });
});

/** One edge whose normal limit is 2 and hard cap 4, with origins that hold every request. */
async function heldEdge(shedding: string) {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(
    cfg.file,
    `edge:\n  shedding: { adaptive: vegas, initialLimit: 2, minLimit: 2, maxInFlight: 4${shedding} }`,
  );
  const hold = holdingOrigin();
  const servers: Server[] = [];
  for (const p of [9101, 9102, 9201, 9202]) servers.push(await startOrigin(cfg.port(p), hold.handler));
  const edge = await startEdge(cfg.file, 'us-east-1');
  const pending: Promise<unknown>[] = [send(edge.url, '/hold1', {}), send(edge.url, '/hold2', {})];
  assert.ok((await waitFor(() => hold.held.length === 2, 5000)) >= 0, 'two requests held: the normal limit');
  /** 'shed' or 'admitted' (the request reached the held origins: only critical may, up to the cap). */
  const admission = async (req: Promise<{ status: number }>) => {
    const held = hold.held.length;
    const admitted = waitFor(() => hold.held.length > held, 5000).then((t) =>
      t >= 0 ? 'admitted' : 'timeout',
    );
    const answered = req.then((r) => (r.status === 503 ? 'shed' : `status ${r.status}`));
    pending.push(req);
    return Promise.race([admitted, answered]);
  };
  return {
    edge,
    admission,
    async close() {
      hold.release();
      await Promise.all(pending);
      await edge.close();
      for (const s of servers) await closeServer(s);
    },
  };
}

test('x-meridian-priority: critical from a client is not critical', async () => {
  const e = await heldEdge('');
  try {
    const outcome = await e.admission(send(e.edge.url, '/x', { 'x-meridian-priority': 'critical' }));
    assert.equal(outcome, 'shed', 'shed like any normal request, not admitted up to the hard cap');
  } finally {
    await e.close();
  }
});

test("a priority header of the operator's naming is believed from trusted proxies only", async () => {
  const e = await heldEdge(', priorityHeader: x-priority');
  const untrusted = new Client(e.edge.url, { localAddress: '127.0.0.2' });
  try {
    const fromUntrusted = untrusted
      .request({ path: '/u', method: 'GET', headers: { host: HOST, 'x-priority': 'critical' } })
      .then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));
    assert.equal(await e.admission(fromUntrusted), 'shed', 'from 127.0.0.2: not a trusted proxy');
    const fromTrusted = send(e.edge.url, '/t', { 'x-priority': 'critical' });
    assert.equal(await e.admission(fromTrusted), 'admitted', 'from 127.0.0.1 (trust.proxies): critical');
  } finally {
    await e.close();
    await untrusted.close();
  }
});

test('trust.header is the header the client address is read from; X-Forwarded-For is then not', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const { readFileSync, writeFileSync } = await import('node:fs');
  writeFileSync(
    cfg.file,
    readFileSync(cfg.file, 'utf8').replace(/^trust:\n/m, 'trust:\n  header: X-Real-IP\n'),
  );
  const servers: Server[] = [];
  for (const p of [9101, 9102, 9201, 9202]) servers.push(await startOrigin(cfg.port(p), echo));
  const east = await startEdge(cfg.file, 'us-east-1');
  const west = await startEdge(cfg.file, 'us-west-2');
  try {
    await waitFor(() => east.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0, 5000);
    const byRealIp = await send(east.url, '/ip', { 'x-real-ip': SEATTLE });
    assert.equal(byRealIp.region, 'us-west-2', 'located in Seattle by X-Real-IP');
    const byXff = await send(east.url, '/ip', { 'x-forwarded-for': SEATTLE });
    assert.equal(byXff.region, 'us-east-1', 'X-Forwarded-For is not the configured header');
  } finally {
    await east.close();
    await west.close();
    for (const s of servers) await closeServer(s);
  }
});

test('without a peer key a local 503 is not retried in another region (it would be sent back)', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const servers: Server[] = [];
  const failing = (_req: unknown, res: { writeHead(s: number): { end(b: string): void } }) =>
    res.writeHead(503).end('down');
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), failing));
  for (const p of [9201, 9202]) servers.push(await startOrigin(cfg.port(p), echo));
  const keyless = [
    await startEdge(cfg.file, 'us-east-1', { peerKey: false }),
    await startEdge(cfg.file, 'us-west-2', { peerKey: false }),
  ];
  const keyed = [
    await startEdge(cfg.file, 'us-east-1', { listen: '127.0.0.1:0' }),
    await startEdge(cfg.file, 'us-west-2', { listen: '127.0.0.1:0' }),
  ];
  try {
    for (const e of [keyless[0], keyed[0]]) {
      const seen = () => e.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
      assert.ok((await waitFor(seen, 5000)) >= 0, 'us-east-1 reaches us-west-2');
    }
    const plain = await send(keyless[0].url, '/r', {});
    assert.equal(plain.status, 503, 'the local answer, not a 508 from a request sent back and forth');
    assert.equal(plain.region, 'us-east-1');
    // The keyed east edge retries at the config's us-west-2 edge (keyless[1], same address): it
    // cannot verify the signature without a key, yet the Via loop check refuses the bounce.
    const bounced = await send(keyed[0].url, '/r', {});
    assert.equal(bounced.status, 508, 'a peer that does not believe the hop sends it back; refused, no loop');
  } finally {
    for (const e of [...keyless, ...keyed]) await e.close();
    for (const s of servers) await closeServer(s);
  }
});
