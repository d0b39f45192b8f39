// Active-active at the edge: a client whose home is another region is served
// there (X-Forwarded-For believed only from trusted peers), by proxy or 307;
// a PARTITIONED or unreachable home region means serving locally. The client
// side runs in process (edge.request()); origins and us-west-2's edge are real
// servers, so the proxied requests cross a socket.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import { parseEdgeReport } from '../src/feed/report.js';
import {
  closeServer,
  echo,
  type InProcessEdge,
  inProcessEdge,
  startEdge,
  startOrigin,
  type TestEdge,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const API = 'http://api.example.com';
const SEATTLE = '24.16.0.1';
let cfg: Awaited<ReturnType<typeof configWithFreePorts>>;
let east: InProcessEdge;
let west: TestEdge;
const origins: Server[] = [];

before(async () => {
  cfg = await configWithFreePorts('examples/two-regions.yaml');
  for (const p of [9101, 9102, 9201, 9202]) origins.push(await startOrigin(cfg.port(p), echo));
  west = await startEdge(cfg.file, 'us-west-2');
  east = await inProcessEdge(cfg.file, 'us-east-1');
  // us-east-1 probes us-west-2's /meridian/health; wait until it sees it.
  const reachable = () => east.edge.runtime.peers.byRegion.get('us-west-2')!.okAt > 0;
  assert.ok((await waitFor(reachable, 5000)) >= 0, 'us-east-1 reaches us-west-2');
});
after(async () => {
  await east.close();
  await west.close();
  for (const o of origins) await closeServer(o);
});

test('a Seattle client at us-east-1 (X-Forwarded-For from 127.0.0.1) is served by us-west-2', async () => {
  const res = await east.request(`${API}/who`, {
    headers: { 'x-forwarded-for': SEATTLE, 'x-meridian-debug': 'attempts' },
  });
  const body = res.json() as { headers: Record<string, string> };
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-meridian-region'], 'us-west-2');
  assert.match(res.headers['x-meridian-attempts'], /^us-west-2 /);
  assert.match(body.headers['x-forwarded-for'], new RegExp(`^${SEATTLE}, `));
  assert.match(body.headers.via, /meridian-us-east-1, 1.1 meridian-us-west-2/);
});

test('a Seattle client connecting from its own address is served by us-west-2', async () => {
  const res = await east.request(`${API}/who`, { remoteAddress: SEATTLE });
  assert.equal(res.headers['x-meridian-region'], 'us-west-2');
  assert.match(res.json().headers['x-forwarded-for'], new RegExp(`^${SEATTLE}, `));
});

test('the same header from an untrusted peer (127.0.0.2) is ignored', async () => {
  const res = await east.request(`${API}/who`, {
    remoteAddress: '127.0.0.2',
    headers: { 'x-forwarded-for': SEATTLE },
  });
  const body = res.json() as { headers: Record<string, string> };
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-meridian-region'], 'us-east-1');
  assert.equal(body.headers['x-forwarded-for'], '127.0.0.2', 'the forged header is not passed on');
});

test('a local client stays local; a client cannot claim a hop (only a signed hop from a peer is believed)', async () => {
  const local = await east.request(`${API}/x`);
  assert.equal(local.headers['x-meridian-region'], 'us-east-1');
  const hop = await east.request(`${API}/x`, {
    headers: { 'x-forwarded-for': SEATTLE, 'x-meridian-hop': '1' },
  });
  assert.equal(hop.headers['x-meridian-region'], 'us-west-2', 'signed hops only: see edge-peer-trust');
});

test('misrouted: redirect per service; a PARTITIONED home region is served locally', async () => {
  const original = readFileSync(cfg.file, 'utf8');
  const file = `${cfg.file}.redirect.yaml`;
  writeFileSync(file, original.replace('    healthCheck:', '    misrouted: redirect\n    healthCheck:'));
  // Services are built at start: a new edge picks the redirect setting up.
  const redirecting = await inProcessEdge(file, 'us-east-1');
  try {
    const res = await redirecting.request(`${API}/path?q=1`, { headers: { 'x-forwarded-for': SEATTLE } });
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, `http://127.0.0.1:${cfg.port(8201)}/path?q=1`);
  } finally {
    await redirecting.close();
  }
  // The snapshot says us-west-2 is PARTITIONED: no proxying to it.
  const snap = east.edge.runtime.snapshot;
  const regions = new Map(snap.regions);
  regions.set('us-west-2', { ...regions.get('us-west-2')!, health: 'PARTITIONED' });
  east.edge.runtime.snapshot = { ...snap, version: snap.version + 1000, regions };
  const res = await east.request(`${API}/p`, { headers: { 'x-forwarded-for': SEATTLE } });
  assert.equal(res.headers['x-meridian-region'], 'us-east-1');
  east.edge.runtime.snapshot = snap;
});

test('collect() builds the EdgeReport control expects: demand by home region, peers, origins', async () => {
  east.edge.collect(); // start a fresh interval
  for (let i = 0; i < 3; i++) {
    await east.request(`${API}/d${i}`, { headers: { 'x-forwarded-for': SEATTLE } });
  }
  const report = parseEdgeReport(east.edge.collect());
  assert.equal(report.region, 'us-east-1');
  assert.ok((report.demandByHome['us-west-2'] ?? 0) > 0, JSON.stringify(report.demandByHome));
  assert.deepEqual(report.peers, { 'us-west-2': true });
  assert.equal(report.origins.length, 2);
  assert.ok(report.origins.every((o) => o.healthy));
  assert.equal(report.capacity, 1000);
  assert.ok(report.requestsPerS > 0);
});
