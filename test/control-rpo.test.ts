// Replication lag in control: shown per region in status, and the evacuate /
// restore pre-check and each step's gates refuse while a receiving region's
// lag is above control.rpo.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { runCliAsync, waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

async function setup() {
  const example = await configWithFreePorts();
  const control = await startTestControl({ rpo: '2s' }, { base: example.file });
  const east = await startFakeEdge('us-east-1', example.port(8101), control.url, TOKENS.agent);
  const west = await startFakeEdge('us-west-2', example.port(8201), control.url, TOKENS.agent);
  east.report.replicationLagMs = 40;
  west.report.replicationLagMs = 40;
  const env = { MERIDIAN_CONTROL: control.url, MERIDIAN_TOKEN: TOKENS.operator };
  const status = async () =>
    (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json as {
      rpoMs: number | null;
      regions: { id: string; dial: number; replicationLagMs: number | null }[];
      operation: { status: string; message: string; index: number } | null;
    };
  const lagOf = async (id: string) => (await status()).regions.find((r) => r.id === id)!.replicationLagMs;
  await waitFor(async () => (await lagOf('us-west-2')) === 40 && (await lagOf('us-east-1')) === 40, 5000);
  const close = async () => {
    await east.close();
    await west.close();
    await control.close();
  };
  return { control, east, west, env, status, lagOf, close };
}

test('status shows replication lag per region, in JSON and in the table', async () => {
  const s = await setup();
  try {
    assert.equal((await s.status()).rpoMs, 2000);
    s.west.report.replicationLagMs = 7300;
    await waitFor(async () => (await s.lagOf('us-west-2')) === 7300, 5000);
    const r = await runCliAsync(['status'], s.env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /repl lag \(RPO 2000 ms\)/);
    assert.match(r.stdout, /us-west-2 .*7300 ms > RPO/);
    assert.match(r.stdout, /us-east-1 .*40 ms/);
  } finally {
    await s.close();
  }
});

test('evacuate is refused with the numbers while the receiver lags behind the RPO; --json shows them', async () => {
  const s = await setup();
  try {
    s.west.report.replicationLagMs = 7300;
    await waitFor(async () => (await s.lagOf('us-west-2')) === 7300, 5000);
    const dry = await runCliAsync(['evacuate', 'us-east-1', '--steps', '0', '--dry-run', '--json'], s.env);
    assert.equal(dry.status, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout.split('\n')[0]);
    assert.deepEqual(plan.replication.regions, [
      {
        region: 'us-west-2',
        lagMs: 7300,
        ok: false,
        reason: 'replication lag of us-west-2 is 7300 ms, above the RPO of 2000 ms',
      },
    ]);
    const r = await runCliAsync(['evacuate', 'us-east-1', '--steps', '0', '--json'], s.env);
    assert.equal(r.status, 1, r.stdout);
    const { error } = JSON.parse(r.stdout);
    assert.equal(error.code, 'CONFLICT');
    assert.equal(error.message, 'refused: replication lag of us-west-2 is 7300 ms, above the RPO of 2000 ms');
    assert.equal((await s.status()).regions.find((x) => x.id === 'us-east-1')!.dial, 100, 'nothing moved');
    s.west.report.replicationLagMs = 300;
    await waitFor(async () => (await s.lagOf('us-west-2')) === 300, 5000);
    const ok = await runCliAsync(
      ['evacuate', 'us-east-1', '--steps', '0', '--step-interval', '200ms'],
      s.env,
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /ok: replication lag of us-west-2 is 300 ms \(RPO 2000 ms\)/);
  } finally {
    await s.close();
  }
});

test('restore checks the lag of the region it brings back; a lag rising mid-way fails the step gate', async () => {
  const s = await setup();
  try {
    const evac = await runCliAsync(
      ['evacuate', 'us-east-1', '--steps', '0', '--step-interval', '200ms'],
      s.env,
    );
    assert.equal(evac.status, 0, evac.stderr);
    s.east.report.replicationLagMs = 9000;
    await waitFor(async () => (await s.lagOf('us-east-1')) === 9000, 5000);
    const refused = await api(s.control.url, 'POST', '/v1/operations', TOKENS.operator, {
      kind: 'restore',
      region: 'us-east-1',
      steps: [50, 100],
      stepIntervalMs: 300,
    });
    assert.equal(refused.status, 409);
    assert.match(refused.json.error?.message ?? '', /us-east-1 is 9000 ms, above the RPO of 2000 ms/);

    s.east.report.replicationLagMs = 100;
    await waitFor(async () => (await s.lagOf('us-east-1')) === 100, 5000);
    const started = await api(s.control.url, 'POST', '/v1/operations', TOKENS.operator, {
      kind: 'restore',
      region: 'us-east-1',
      steps: [50, 100],
      stepIntervalMs: 600,
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    await waitFor(async () => (await s.status()).operation?.index === 0, 5000);
    s.east.report.replicationLagMs = 9000;
    await waitFor(
      async () => /replication lag of us-east-1 is 9000 ms/.test((await s.status()).operation!.message),
      10_000,
    );
    const { operation } = await s.status();
    assert.match(operation!.message, /gate failed|aborted/);
  } finally {
    await s.close();
  }
});
