// The pipeline's stage behaviours, driven in process through edge.request():
// request-head checks, hop signing, shedding with priorities. (Routing and
// retries run in process too: edge-steering, edge-retry.) No client socket is
// involved; origins and the peer edge are real servers. The wire itself
// (parsers, framing, timeouts, TLS) is proved by the socket suites.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { InProcessRequest } from '../src/edge/exchange/in-process.js';
import { signHop } from '../src/edge/peer-auth.js';
import {
  appendYaml,
  closeServer,
  echo,
  type Handler,
  holdingOrigin,
  type InProcessEdge,
  inProcessEdge,
  startEdge,
  startOrigin,
  TEST_PEER_KEY_ENV,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const HOST = 'api.example.com';
const API = `http://${HOST}`;
const SEATTLE = '24.16.0.1';
const KEY = process.env[TEST_PEER_KEY_ENV]!;

const servers: Server[] = [];
const edges: { close(): Promise<void> }[] = [];
after(async () => {
  for (const e of edges) await e.close();
  for (const s of servers) await closeServer(s);
});

/** Two regions: us-east-1 in process, us-west-2 listening (the peer the misrouted go to). */
async function twoRegions(extraYaml = '', east: Handler = echo, west: Handler = echo) {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  if (extraYaml !== '') appendYaml(cfg.file, extraYaml);
  const seen: string[] = [];
  const counting =
    (h: Handler): Handler =>
    (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      h(req, res);
    };
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), counting(east)));
  for (const p of [9201, 9202]) servers.push(await startOrigin(cfg.port(p), west));
  const westEdge: TestEdge = await startEdge(cfg.file, 'us-west-2');
  const eastEdge: InProcessEdge = await inProcessEdge(cfg.file, 'us-east-1');
  edges.push(eastEdge, westEdge);
  const reachable = () => eastEdge.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
  assert.ok((await waitFor(reachable, 5000)) >= 0, 'us-east-1 reaches the us-west-2 edge');
  return { cfg, east: eastEdge, west: westEdge, eastRequests: seen };
}

describe('request head', () => {
  let r: Awaited<ReturnType<typeof twoRegions>>;
  before(async () => {
    r = await twoRegions();
  });

  const refused: { name: string; target?: string; init: InProcessRequest; status: number }[] = [
    {
      name: 'two Host headers',
      init: {
        headers: [
          ['Host', HOST],
          ['Host', 'evil.example'],
        ],
      },
      status: 400,
    },
    {
      name: 'Content-Length and Transfer-Encoding',
      init: {
        method: 'POST',
        headers: [
          ['Content-Length', '3'],
          ['Transfer-Encoding', 'chunked'],
        ],
        body: 'abc',
      },
      status: 400,
    },
    {
      name: 'Transfer-Encoding other than chunked',
      init: { method: 'POST', headers: [['Transfer-Encoding', 'chunked, identity']], body: '0\r\n\r\n' },
      status: 400,
    },
    {
      name: 'Transfer_Encoding (a framing header in disguise)',
      init: { headers: [['Transfer_Encoding', 'chunked']] },
      status: 400,
    },
    {
      name: 'two different Content-Lengths',
      init: {
        method: 'POST',
        headers: [
          ['Content-Length', '1'],
          ['Content-Length', '2'],
        ],
        body: 'ab',
      },
      status: 400,
    },
    { name: 'an asterisk-form target', target: '*', init: { method: 'OPTIONS' }, status: 400 },
    { name: 'an authority-form target', target: 'evil.example:443', init: {}, status: 400 },
    {
      name: 'a Via that passed here (a loop)',
      init: { headers: { via: '1.1 meridian-us-east-1' } },
      status: 508,
    },
    { name: 'an unknown Host', init: { headers: { host: 'unknown.example.org' } }, status: 421 },
  ];
  for (const c of refused) {
    test(`${c.name}: ${c.status}, nothing reaches an origin`, async () => {
      const before = r.eastRequests.length;
      // A target that is not a URL goes in as it is, so Host is given here.
      const given = asPairs(c.init.headers);
      const headers = given.some(([n]) => n.toLowerCase() === 'host') ? given : [['Host', HOST], ...given];
      const res = await r.east.request(c.target ?? '/x', {
        ...c.init,
        headers: headers as [string, string][],
      });
      assert.equal(res.status, c.status, res.text());
      assert.equal(res.headers['x-meridian-region'], 'us-east-1');
      if (c.status === 400) assert.ok(res.closesConnection, 'a refused head closes the connection');
      assert.equal(r.eastRequests.length, before, 'no origin saw it');
    });
  }

  test('hop-by-hop and x-meridian-* headers are dropped; forwarding headers and Via are set', async () => {
    const res = await r.east.request(`${API}/h`, {
      headers: {
        connection: 'keep-alive, x-secret',
        'keep-alive': 'timeout=5',
        'x-secret': 'hop only',
        'x-meridian-hop': '1',
        'x-meridian-debug': 'none',
        'x-kept': 'yes',
      },
      remoteAddress: '127.0.0.1',
    });
    assert.equal(res.status, 200);
    const seen = res.json().headers as Record<string, string>;
    for (const gone of ['connection', 'keep-alive', 'x-secret', 'x-meridian-hop', 'x-meridian-debug']) {
      assert.equal(seen[gone], undefined, `${gone} is not forwarded`);
    }
    assert.equal(seen['x-kept'], 'yes');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], HOST);
    assert.equal(seen.via, '1.1 meridian-us-east-1');
  });
});

function asPairs(h: InProcessRequest['headers']): [string, string][] {
  if (h === undefined) return [];
  return (Array.isArray(h) ? h : Object.entries(h)) as [string, string][];
}

describe('hop signing', () => {
  let r: Awaited<ReturnType<typeof twoRegions>>;
  before(async () => {
    r = await twoRegions();
  });

  test('a client cannot claim a hop; a hop signed with the peer key is served where it lands', async () => {
    const claimed = await r.east.request(`${API}/hop`, {
      remoteAddress: SEATTLE,
      headers: { 'x-meridian-hop': '1' },
    });
    assert.equal(claimed.headers['x-meridian-region'], 'us-west-2', 'an unsigned hop changes nothing');
    const signed = await r.east.request(`${API}/hop`, {
      remoteAddress: SEATTLE,
      headers: signHop(KEY, 'GET', '/hop', HOST),
    });
    assert.equal(signed.headers['x-meridian-region'], 'us-east-1', 'a signed hop is served here');
    const wrongKey = await r.east.request(`${API}/hop`, {
      remoteAddress: SEATTLE,
      headers: signHop('not-the-peer-key-0123456789abcdef', 'GET', '/hop', HOST),
    });
    assert.equal(
      wrongKey.headers['x-meridian-region'],
      'us-west-2',
      'a signature under another key is ignored',
    );
    const otherTarget = await r.east.request(`${API}/elsewhere`, {
      remoteAddress: SEATTLE,
      headers: signHop(KEY, 'GET', '/hop', HOST),
    });
    assert.equal(
      otherTarget.headers['x-meridian-region'],
      'us-west-2',
      'a signature of another request is ignored',
    );
  });
});

describe('shedding and priorities', () => {
  let edge: InProcessEdge;
  const hold = holdingOrigin();
  before(async () => {
    const r = await twoRegions(
      `edge:
  shedding: { adaptive: vegas, initialLimit: 4, minLimit: 4, maxInFlight: 6, bestEffortShare: 0.5, retryAfter: 2, priorityHeader: x-priority }
  services:
    - name: api
      priorities: [{ pathPrefix: /batch, class: best-effort }]`,
      hold.handler,
    );
    edge = r.east;
  });

  test('best-effort first, then normal, critical last (trusted callers only); 503 with Retry-After, no queue', async () => {
    const pending: Promise<unknown>[] = [];
    const occupy = async (n: number, headers: Record<string, string> = {}) => {
      const target = hold.held.length + n;
      for (let i = 0; i < n; i++) pending.push(edge.request(`${API}/hold`, { headers }));
      assert.ok((await waitFor(() => hold.held.length === target, 5000)) >= 0, `${target} requests held`);
    };
    const status = async (path: string, init: InProcessRequest = {}) =>
      (await edge.request(`${API}${path}`, init)).status;

    await occupy(2);
    const be = await edge.request(`${API}/x`, { headers: { 'x-priority': 'best-effort' } });
    assert.equal(be.status, 503, 'best-effort shed at half the limit');
    assert.equal(be.headers['retry-after'], '2');
    assert.equal(await status('/batch/job'), 503, 'the route rule makes /batch best-effort');
    await occupy(2);
    assert.equal(await status('/x'), 503, 'normal shed at the adaptive limit');
    const fromUntrusted = { remoteAddress: '127.0.0.2', headers: { 'x-priority': 'critical' } };
    assert.equal(await status('/x', fromUntrusted), 503, 'critical from an untrusted peer is normal');
    const fromClient = { headers: { 'x-meridian-priority': 'critical' } };
    assert.equal(
      await status('/x', fromClient),
      503,
      'x-meridian-priority counts only when a peer signed it',
    );
    await occupy(2, { 'x-priority': 'critical' });
    assert.equal(await status('/x', { headers: { 'x-priority': 'critical' } }), 503, 'the hard cap');
    const burst = await Promise.all(Array.from({ length: 30 }, () => status('/x')));
    assert.ok(
      burst.every((s) => s === 503),
      'a burst is answered at once, not queued',
    );
    assert.equal(hold.held.length, 6);
    hold.release();
    await Promise.all(pending);
    assert.equal(edge.edge.runtime.services.get(HOST)!.limiter.inFlight, 0, 'every slot given back');
  });
});
