// Done-when of issue 5, end to end: control, `meridian dns` and both edges of
// examples/two-regions.yaml as processes, with origins, on loopback.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  closeServer,
  deploymentConfigs,
  dnsAnswer,
  origin,
  regionServing,
  stop,
} from './control-deployment.js';
import { api, TOKENS } from './control-fixtures.js';
import { runCliAsync, waitFor } from './control-helpers.js';
import { type Proc, startMeridian } from './helpers/cli.js';
import { findProgram } from './helpers/programs.js';

const NY_SUBNET = '128.59.0.0/24';
const NY_CLIENT = '128.59.0.10';
const EAST_A = '192.0.2.10';
const WEST_A = '198.51.100.10';

type Deployment = Awaited<ReturnType<typeof deploymentConfigs>>;
let d: Deployment;
let control: Proc;
let dns: Proc;
const edges: Proc[] = [];
const origins = new Map<string, Server[]>();
let controlUrl = '';
let dnsPort = 0;
const env = () => ({ MERIDIAN_CONTROL: controlUrl, MERIDIAN_TOKEN: TOKENS.operator });
const missing = ['kdig'].filter((p) => !findProgram(p));

async function startControl() {
  const port = controlUrl ? new URL(controlUrl).port : '0';
  control = await startMeridian(
    'control',
    ['control', '--config', d.file, '--listen', `127.0.0.1:${port}`],
    d.logDir,
  );
  controlUrl = String(control.ready.url);
}

async function startDns() {
  dns = await startMeridian(
    'dns',
    ['dns', '--config', d.file, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'].concat(
      ['--control', controlUrl, '--token', TOKENS.agent, '--state-dir', join(d.dir, 'dns-state')],
    ),
    d.logDir,
  );
  dnsPort = Number(
    String((dns.ready.udp as string[])[0])
      .split(':')
      .pop(),
  );
}

async function startOrigins(region: string) {
  const servers: Server[] = [];
  for (const [old, port] of d.ports)
    if ((region === 'us-east-1' && old >= 9100 && old < 9200) || (region === 'us-west-2' && old >= 9200))
      servers.push(await origin(port, region));
  origins.set(region, servers);
}

const status = async () =>
  (await api(controlUrl, 'GET', '/v1/status', TOKENS.viewer)).json as {
    regions: { id: string; health: string; dial: number }[];
    operation: { status: string; kind: string; startedAt: number } | null;
  };
const region = async (id: string) => (await status()).regions.find((r) => r.id === id)!;

/** Polls DNS and the east edge (each on its own, every 50 ms) until both show `want`; the times each first did. */
async function watchMove(wantRegion: string, timeoutMs: number) {
  const wantA = wantRegion === 'us-east-1' ? EAST_A : WEST_A;
  const seen: [string | null, string | null] = [null, null];
  const until = async (probe: () => Promise<string | null>, want: string, i: number) => {
    await waitFor(
      async () => {
        seen[i] = await probe();
        return seen[i] === want;
      },
      timeoutMs,
      50,
    );
    return Date.now();
  };
  try {
    const [dnsAt, edgeAt] = await Promise.all([
      until(() => dnsAnswer(dnsPort, NY_SUBNET), wantA, 0),
      until(() => regionServing(d.edgeUrl['us-east-1'], NY_CLIENT), wantRegion, 1),
    ]);
    return { dnsAt, edgeAt };
  } catch (e) {
    throw new Error(`${(e as Error).message}: last DNS answer ${seen[0]}, east edge served by ${seen[1]}`);
  }
}

/** The CLI takes a while to start on a busy machine: wait until its operation exists. */
async function operationStarted(kind: string, since: number) {
  await waitFor(
    async () => {
      const op = (await status()).operation;
      return op?.kind === kind && op.startedAt >= since;
    },
    120_000,
    100,
  );
}

async function stepTime(action: string, dial: number): Promise<number> {
  const audit = (await api(controlUrl, 'GET', '/v1/audit?limit=50', TOKENS.viewer)).json.entries as {
    action: string;
    at: number;
    details?: { dial?: number };
  }[];
  return audit.find((a) => a.action === action && a.details?.dial === dial)!.at;
}

describe('control plane end to end (two regions on loopback)', {
  skip: missing.length ? `${missing} not installed` : false,
}, () => {
  before(async () => {
    d = await deploymentConfigs();
    await startOrigins('us-east-1');
    await startOrigins('us-west-2');
    await startControl();
    await startDns();
    const started = await Promise.all(
      (['us-east-1', 'us-west-2'] as const).map((r) => {
        const args = [
          'edge',
          '--config',
          d.edgeFiles[r],
          '--region',
          r,
          '--admin',
          '127.0.0.1:0',
          '--workers',
          '1',
        ];
        args.push('--control', controlUrl, '--token', TOKENS.agent, '--state-dir', join(d.dir, `${r}-state`));
        return startMeridian(`edge-${r}`, args, d.logDir);
      }),
    );
    edges.push(...started);
    await waitFor(async () => (await status()).regions.every((r) => r.health === 'HEALTHY'), 20_000, 200);
    // An edge that came up later than its peer was rightly DOWN for a moment, and failover set its
    // dial to 0; control would bring it back by itself, but the operator's dial is quicker (and
    // supersedes the automatic restore).
    for (const r of (await status()).regions)
      if (r.dial !== 100) assert.equal((await runCliAsync(['dial', r.id, '100'], env())).status, 0);
  });

  after(async () => {
    await Promise.all([control, dns, ...edges].filter(Boolean).map((p) => stop(p.child)));
    for (const servers of origins.values()) await Promise.all(servers.map(closeServer));
    await d?.links.toEast.close();
    await d?.links.toWest.close();
  });

  test('evacuate moves New York in DNS and at the east edge; restore brings it back', async (t) => {
    // Before: New York is answered and served by us-east-1 (the edges' origin checks may still be settling).
    await watchMove('us-east-1', 30_000);
    const t0 = Date.now();
    const evacuation = runCliAsync(
      ['evacuate', 'us-east-1', '--steps', '50,0', '--step-interval', '2s', '--json'],
      env(),
    );
    await operationStarted('evacuate', t0);
    const moved = await watchMove('us-west-2', 20_000);
    const step1 = await stepTime('evacuate-step', 50);
    t.diagnostic(
      `evacuate step 1 (dial 50): DNS moved after ${moved.dnsAt - step1} ms, east edge after ${moved.edgeAt - step1} ms`,
    );
    const ev = await evacuation;
    assert.equal(ev.status, 0, ev.stdout + ev.stderr);
    assert.equal((await region('us-east-1')).dial, 0);

    const t1 = Date.now();
    const restore = runCliAsync(
      ['restore', 'us-east-1', '--steps', '50,100', '--step-interval', '2s', '--json'],
      env(),
    );
    await operationStarted('restore', t1);
    const back = await watchMove('us-east-1', 20_000);
    const stepBack = await stepTime('restore-step', 100);
    t.diagnostic(
      `restore step 2 (dial 100): DNS back after ${back.dnsAt - stepBack} ms, east edge after ${back.edgeAt - stepBack} ms`,
    );
    // DNS follows the snapshot alone. The edge also serves New York itself whenever its own probe finds the
    // west edge unreachable (failover), which a loaded machine can cause before the step.
    assert.ok(back.dnsAt >= stepBack - 100, 'DNS returns New York at the dial-100 step, not before');
    assert.equal((await restore).status, 0);
  });

  test('control killed mid-evacuation: DNS and edges keep serving the last snapshot and start from disk', async () => {
    const evacuation = runCliAsync(
      ['evacuate', 'us-east-1', '--steps', '50,0', '--step-interval', '4s', '--no-wait'],
      env(),
    );
    assert.equal((await evacuation).status, 0);
    await watchMove('us-west-2', 10_000);
    await stop(control.child, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await dnsAnswer(dnsPort, NY_SUBNET), WEST_A, 'DNS still serves the last snapshot');
    assert.equal(await regionServing(d.edgeUrl['us-east-1'], NY_CLIENT), 'us-west-2', 'the edge too');

    await stop(dns.child);
    await startDns();
    assert.equal(
      await dnsAnswer(dnsPort, NY_SUBNET),
      WEST_A,
      'a DNS server started with control down serves the snapshot on disk',
    );

    await startControl();
    await waitFor(async () => (await status()).operation?.status === 'done', 20_000, 200);
    assert.equal((await region('us-east-1')).dial, 0, 'the operation resumed after the restart and finished');
    const back = await runCliAsync(
      ['restore', 'us-east-1', '--steps', '100', '--step-interval', '1s'],
      env(),
    );
    assert.equal(back.status, 0, back.stderr);
    await watchMove('us-east-1', 10_000);
  });

  test('all us-east-1 origins killed: DOWN and dial 0; back in steps once HEALTHY', async (t) => {
    const t0 = Date.now();
    await Promise.all(origins.get('us-east-1')!.map(closeServer));
    await waitFor(
      async () => {
        const r = await region('us-east-1');
        return r.health === 'DOWN' && r.dial === 0;
      },
      15_000,
      100,
    );
    t.diagnostic(`us-east-1 DOWN with dial 0 ${Date.now() - t0} ms after its origins were killed`);
    assert.equal(await dnsAnswer(dnsPort, NY_SUBNET), WEST_A);
    await startOrigins('us-east-1');
    // Back by itself once HEALTHY: control's automatic restore, in steps (1 s apart here).
    const dials: number[] = [];
    await waitFor(
      async () => {
        const r = await region('us-east-1');
        if (dials.at(-1) !== r.dial) dials.push(r.dial);
        return r.dial === 100;
      },
      40_000,
      100,
    );
    t.diagnostic(`us-east-1 dial on its way back: ${dials.join(' -> ')}`);
    assert.ok(
      dials.some((x) => x > 0 && x < 100),
      `gradual: ${dials.join(' -> ')}`,
    );
    await waitFor(async () => (await status()).operation?.status !== 'running', 10_000, 200);
    assert.equal((await status()).operation?.kind, 'restore');
    await watchMove('us-east-1', 10_000);
  });

  test('only the link between the edges cut: PARTITIONED, nothing evacuated', async () => {
    d.links.toEast.cut = true;
    d.links.toWest.cut = true;
    try {
      await waitFor(async () => (await region('us-east-1')).health === 'PARTITIONED', 15_000, 200);
      const s = await status();
      assert.deepEqual(
        s.regions.map((r) => r.dial),
        [100, 100],
      );
      assert.equal(await dnsAnswer(dnsPort, NY_SUBNET), EAST_A, 'New York stays in us-east-1');
    } finally {
      d.links.toEast.cut = false;
      d.links.toWest.cut = false;
    }
  });
});
