// Issue 17: WebSockets open at both edges, a region is evacuated through
// control, and its tunnels close within edge.tunnels.evacuationGrace (close
// 1001) and reconnect to the other region; the rest stay open. Then SIGTERM's
// drain closes what is left with 1001. Timers are scaled: the grace is short
// and every bound is relative to it or to when an edge saw the snapshot.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { MeridianConfig } from '../src/config/index.js';
import type { ControlServer } from '../src/control/server.js';
import { Edge } from '../src/edge/edge.js';
import type { ControlSnapshotSource } from '../src/feed/control-source.js';
import { type Reporter, startReporter } from '../src/feed/reporter.js';
import { createLogger } from '../src/log.js';
import { api, followerOf, startTestControl, TOKENS } from './control-fixtures.js';
import {
  appendYaml,
  closeServer,
  echo,
  sharedGeo,
  startOrigin,
  TEST_PEER_KEY_ENV,
  waitFor,
} from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';
import { acceptWebSockets, isOpen, openWebSocket, type WsClient } from './helpers/websocket.js';

const GRACE_MS = 1500;
/** The watch looks every quarter of the grace; the rest is event-loop slack on a busy machine. */
const LATE_MS = GRACE_MS / 4 + 1000;
const HOST = 'api.example.com';
const NEW_YORK = '128.59.0.10';
const SEATTLE = '24.16.0.1';

interface Running {
  edge: Edge;
  source: ControlSnapshotSource;
  reporter: Reporter;
  port: number;
  admin: string;
}

let control: ControlServer & { dir: string; file: string };
const origins: Server[] = [];
const edges = new Map<string, Running>();

async function edgeFollowing(region: string): Promise<Running> {
  const source = followerOf(control, { stateDir: join(control.dir, `${region}-state`) });
  await source.start();
  const base: MeridianConfig = source.config();
  const config = {
    ...base,
    edge: { ...base.edge, peers: { ...base.edge.peers, key: `env:${TEST_PEER_KEY_ENV}` } },
  };
  const log = createLogger('edge', process.env.EDGE_TEST_LOG ?? 'silent');
  const edge = new Edge({ config, region, source, geo: await sharedGeo(), log, admin: '127.0.0.1:0' });
  const { listen, admin } = await edge.start();
  // Control's gates want fresh reports from the regions that take the traffic, as `meridian edge` sends.
  const reporter = startReporter({
    controlUrl: control.url,
    token: TOKENS.agent,
    collect: () => edge.collect(),
    intervalMs: 200,
  });
  return { edge, source, reporter, port: Number(listen!.split(':').pop()), admin: `http://${admin}` };
}

const at = (region: string) => ({ port: edges.get(region)!.port });

async function open(region: string, client: string): Promise<WsClient> {
  const ws = await openWebSocket(at(region), { host: HOST, 'x-forwarded-for': client });
  assert.ok(isOpen(ws), `101 expected at ${region} for ${client}: ${JSON.stringify(ws)}`);
  return ws;
}

const dialAt = (region: string, of: string) => edges.get(region)!.edge.runtime.snapshot.regions.get(of)?.dial;

before(async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(cfg.file, `edge:\n  tunnels: { evacuationGrace: ${GRACE_MS}ms, closeTimeout: 500ms }`);
  for (const p of [9101, 9102, 9201, 9202]) {
    const s = await startOrigin(cfg.port(p), echo);
    acceptWebSockets(s, `origin-${p}`);
    origins.push(s);
  }
  control = await startTestControl({}, { base: cfg.file });
  for (const region of ['us-east-1', 'us-west-2']) edges.set(region, await edgeFollowing(region));
  const sees = (a: string, b: string) => edges.get(a)!.edge.runtime.peers.byRegion.get(b)!.okAt > 0;
  assert.ok(
    (await waitFor(() => sees('us-east-1', 'us-west-2') && sees('us-west-2', 'us-east-1'), 5000)) >= 0,
  );
  const healthy = async () => {
    const status = await api(control.url, 'GET', '/v1/status', TOKENS.viewer);
    return (status.json.regions as { health: string }[]).every((r) => r.health === 'HEALTHY');
  };
  assert.ok((await waitFor(healthy, 10_000)) >= 0, 'control hears both edges');
});
after(async () => {
  for (const e of edges.values()) {
    await e.reporter.close();
    await e.edge.close();
    await e.source.close();
  }
  await control.close();
  for (const s of origins) await closeServer(s);
});

test('evacuating us-east-1 closes its tunnels within the grace period; they reconnect to us-west-2', {
  timeout: 60_000,
}, async () => {
  const nyEast = await open('us-east-1', NEW_YORK);
  const nyWest = await open('us-west-2', NEW_YORK); // misrouted: across the isthmus to us-east-1
  const seattle = await open('us-west-2', SEATTLE);
  assert.equal(nyEast.reply.headers['x-meridian-region'], 'us-east-1');
  assert.equal(nyWest.reply.headers['x-meridian-region'], 'us-east-1');
  assert.equal(seattle.reply.headers['x-meridian-region'], 'us-west-2');

  const evacuated = performance.now();
  const started = await api(control.url, 'POST', '/v1/operations', TOKENS.operator, {
    kind: 'evacuate',
    region: 'us-east-1',
    steps: [0],
    stepIntervalMs: 100,
    reason: 'tunnel test',
  });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const seen = new Map<string, number>();
  for (const region of edges.keys()) {
    void waitFor(() => dialAt(region, 'us-east-1') === 0, 20_000).then((ms) => {
      if (ms >= 0) seen.set(region, performance.now());
    });
  }

  // Within the grace the tunnels carry on (their clients are mid-conversation).
  await sleep(GRACE_MS / 2);
  assert.equal(await nyEast.echo('still east'), 'still east');
  assert.equal(await nyWest.echo('still bridged'), 'still bridged');

  const [eastCode, westCode] = await Promise.all([nyEast.closed, nyWest.closed]);
  assert.equal(eastCode, 1001, 'going away');
  assert.equal(westCode, 1001, 'going away');
  for (const [ws, region] of [
    [nyEast, 'us-east-1'],
    [nyWest, 'us-west-2'],
  ] as const) {
    assert.ok(ws.closedAt - evacuated >= GRACE_MS, `closed after the grace (${ws.closedAt - evacuated} ms)`);
    const sawIt = seen.get(region);
    assert.ok(sawIt !== undefined, `${region} saw the evacuation`);
    const late = ws.closedAt - sawIt - GRACE_MS;
    assert.ok(
      late <= LATE_MS,
      `${region} closed ${Math.round(late)} ms after its grace (at most ${LATE_MS})`,
    );
  }

  // The clients connect again where they were, and land in us-west-2.
  const againEast = await open('us-east-1', NEW_YORK);
  const againWest = await open('us-west-2', NEW_YORK);
  assert.equal(againEast.reply.headers['x-meridian-region'], 'us-west-2', 'bridged to the new home');
  assert.equal(againWest.reply.headers['x-meridian-region'], 'us-west-2', 'served where it is');
  assert.equal(await againEast.echo('moved'), 'moved');
  assert.equal(await againWest.echo('moved'), 'moved');

  // Seattle's home did not move: its tunnel is untouched.
  assert.equal(await seattle.echo('untouched'), 'untouched');
  for (const region of edges.keys()) {
    const text = await (await request(`${edges.get(region)!.admin}/metrics`)).body.text();
    assert.match(
      text,
      /^meridian_edge_tunnels_closed_total\{service="api",reason="evacuated",edge="[^"]+"\} 1$/m,
    );
  }

  // SIGTERM at us-west-2: what is left there closes with 1001 at once, and the drain ends.
  const drainStarted = performance.now();
  await edges.get('us-west-2')!.edge.drain(10_000);
  assert.ok(performance.now() - drainStarted < 5000, 'the drain did not wait for its timeout');
  assert.deepEqual(
    await Promise.all([seattle.closed, againEast.closed, againWest.closed]),
    [1001, 1001, 1001],
  );
});
