// Health and automatic failover with stand-in edges (real reporter, real witness probes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

interface Operation {
  kind: string;
  region: string;
  status: string;
  who: string;
  auto?: boolean;
  steps: number[];
  index: number;
  message: string;
}

/** Short steps so a whole automatic restore fits in a test. */
const FAST_RETURN = { autoRestore: { steps: [25, 50, 75, 100], stepInterval: '300ms' } };

const setOrigins = (edge: { report: { origins: { url: string; healthy: boolean }[] } }, healthy: boolean) => {
  edge.report.origins = edge.report.origins.map((o) => ({ ...o, healthy }));
};

async function setup(control: Record<string, unknown> = {}) {
  const example = await configWithFreePorts();
  const server = await startTestControl(control, { base: example.file });
  return withEdges(server, example);
}

async function withEdges(
  control: Awaited<ReturnType<typeof startTestControl>>,
  example: Awaited<ReturnType<typeof configWithFreePorts>>,
) {
  const east = await startFakeEdge('us-east-1', example.port(8101), control.url, TOKENS.agent);
  const west = await startFakeEdge('us-west-2', example.port(8201), control.url, TOKENS.agent);
  east.report.peers = { 'us-west-2': true };
  west.report.peers = { 'us-east-1': true };
  const full = async () =>
    (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json as {
      regions: {
        id: string;
        health: string;
        dial: number;
        why: string;
        autoRestore: string | null;
        replicationLagMs: number | null;
      }[];
      operation: Operation | null;
    };
  const status = async () => (await full()).regions;
  const region = async (id: string) => (await status()).find((r) => r.id === id)!;
  await waitFor(async () => (await region('us-east-1')).health === 'HEALTHY', 5000);
  const close = async () => {
    await east.close();
    await west.close();
    await control.close();
  };
  return { control, east, west, region, full, close };
}

test('all us-east-1 origins failing: DOWN and dial 0 within 5 s; once HEALTHY again the dial comes back in steps', async (t) => {
  const s = await setup(FAST_RETURN);
  try {
    const t0 = Date.now();
    setOrigins(s.east, false);
    await waitFor(async () => {
      const r = await s.region('us-east-1');
      return r.health === 'DOWN' && r.dial === 0;
    }, 5000);
    t.diagnostic(`DOWN with dial 0 after ${Date.now() - t0} ms (fallAfter 300 ms, reports every 100 ms)`);
    assert.notEqual((await s.region('us-west-2')).health, 'DOWN');
    assert.match((await s.region('us-east-1')).autoRestore ?? '', /dial 100 comes back automatically/);
    setOrigins(s.east, true);
    // Every dial seen from now on, in order: the return is gradual, not a jump to 100.
    const dials: number[] = [];
    await waitFor(
      async () => {
        const r = await s.region('us-east-1');
        if (dials.at(-1) !== r.dial) dials.push(r.dial);
        return r.dial === 100;
      },
      20_000,
      50,
    );
    t.diagnostic(`dials seen while coming back: ${dials.join(' -> ')}`);
    assert.equal(dials[0], 0, 'the dial stays 0 until the region is HEALTHY again (riseAfter)');
    assert.ok(
      dials.filter((d) => d > 0 && d < 100).length >= 2,
      `intermediate steps seen: ${dials.join(' -> ')}`,
    );
    assert.deepEqual(
      dials,
      [...dials].sort((a, b) => a - b),
      'the dial only goes up',
    );
    // The last step is done once its gate passed, one step interval later.
    await waitFor(async () => (await s.full()).operation?.status !== 'running', 5000);
    const { operation, regions } = await s.full();
    assert.equal(regions.find((r) => r.id === 'us-east-1')!.health, 'HEALTHY');
    assert.deepEqual(
      [operation?.kind, operation?.who, operation?.auto, operation?.status, operation?.steps],
      ['restore', 'control', true, 'done', [25, 50, 75, 100]],
    );
    const audit = (await api(s.control.url, 'GET', '/v1/audit?limit=50', TOKENS.viewer)).json.entries as {
      action: string;
      who: string;
      role: string;
      reason?: string;
    }[];
    const started = audit.find((a) => a.action === 'restore');
    assert.deepEqual(
      [started?.who, started?.role, started?.reason],
      ['control', 'system', 'recovered from DOWN'],
    );
    assert.ok(audit.some((a) => a.action === 'restore-done' && a.who === 'control'));
    assert.equal((await s.region('us-east-1')).autoRestore, null, 'nothing left to restore');
  } finally {
    await s.close();
  }
});

test('a dial an operator set to 0 (evacuation) is not restored when the region recovers', async () => {
  const s = await setup(FAST_RETURN);
  try {
    const started = await api(s.control.url, 'POST', '/v1/operations', TOKENS.operator, {
      kind: 'evacuate',
      region: 'us-east-1',
      steps: [0],
      stepIntervalMs: 200,
      reason: 'maintenance',
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    await waitFor(async () => (await s.full()).operation?.status === 'done', 5000);
    setOrigins(s.east, false);
    await waitFor(async () => (await s.region('us-east-1')).health === 'DOWN', 5000);
    assert.equal((await s.region('us-east-1')).autoRestore, null);
    setOrigins(s.east, true);
    await waitFor(async () => (await s.region('us-east-1')).health === 'HEALTHY', 20_000);
    // Longer than an automatic restore would take to start and reach its first step.
    await new Promise((r) => setTimeout(r, 1500));
    const { operation, regions } = await s.full();
    assert.equal(regions.find((r) => r.id === 'us-east-1')!.dial, 0);
    assert.equal(operation?.kind, 'evacuate', 'no automatic restore started');
  } finally {
    await s.close();
  }
});

test('with autoRestore disabled the dial stays 0 after recovery until an operator restores it', async () => {
  const s = await setup({ autoRestore: { enabled: false } });
  try {
    setOrigins(s.east, false);
    await waitFor(async () => (await s.region('us-east-1')).dial === 0, 5000);
    setOrigins(s.east, true);
    await waitFor(async () => (await s.region('us-east-1')).health === 'HEALTHY', 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const east = await s.region('us-east-1');
    assert.deepEqual([east.dial, east.autoRestore], [0, null]);
    assert.equal((await s.full()).operation, null);
  } finally {
    await s.close();
  }
});

test('DOWN again in the middle of an automatic restore aborts it and sets the dial to 0', async () => {
  const s = await setup({ autoRestore: { steps: [25, 50, 75, 100], stepInterval: '3s' } });
  try {
    setOrigins(s.east, false);
    await waitFor(async () => (await s.region('us-east-1')).health === 'DOWN', 5000);
    setOrigins(s.east, true);
    await waitFor(async () => (await s.region('us-east-1')).dial === 25, 20_000);
    const ramp = (await s.full()).operation!;
    assert.deepEqual([ramp.auto, ramp.status], [true, 'running']);
    setOrigins(s.east, false);
    await waitFor(async () => (await s.region('us-east-1')).health === 'DOWN', 5000);
    const { operation, regions } = await s.full();
    const east = regions.find((r) => r.id === 'us-east-1')!;
    assert.equal(east.dial, 0);
    assert.equal(operation?.status, 'aborted');
    assert.match(operation?.message ?? '', /went DOWN/);
    assert.match(
      east.autoRestore ?? '',
      /dial 100 comes back/,
      'it comes back again after the next recovery',
    );
  } finally {
    await s.close();
  }
});

test('an automatic restore that aborts on failed gates is tried again after retryAfter, from where it backed off', async () => {
  const s = await setup({
    autoRestore: { steps: [25, 50, 75, 100], stepInterval: '300ms', retryAfter: '2s' },
    // The p99 gate (200 ms) fails while health (degraded above 1 s) stays HEALTHY.
    gates: { p99: '200ms', maxFailures: 1 },
  });
  try {
    setOrigins(s.east, false);
    await waitFor(async () => (await s.region('us-east-1')).health === 'DOWN', 5000);
    s.east.report.p99Ms = 500;
    setOrigins(s.east, true);
    await waitFor(async () => (await s.full()).operation?.status === 'aborted', 20_000);
    const gaveUp = await s.full();
    assert.match(gaveUp.operation?.message ?? '', /failed gates.*control tries again at/);
    const east = gaveUp.regions.find((r) => r.id === 'us-east-1')!;
    assert.equal(east.health, 'HEALTHY');
    assert.ok(east.dial < 100, `backed off, dial ${east.dial}`);
    assert.match(east.autoRestore ?? '', /dial 100 comes back automatically: gates failed, next try at/);
    const abortedAt = Date.now();
    s.east.report.p99Ms = 10;
    await waitFor(async () => (await s.region('us-east-1')).dial === 100, 20_000);
    assert.ok(Date.now() - abortedAt >= 1500, 'the second try waited for retryAfter');
    await waitFor(async () => (await s.full()).operation?.status !== 'running', 5000);
    const { operation } = await s.full();
    assert.deepEqual([operation?.auto, operation?.status], [true, 'done']);
    assert.equal((await s.region('us-east-1')).autoRestore, null, 'nothing left to restore');
  } finally {
    await s.close();
  }
});

test('an operator dial supersedes a running automatic restore of the region', async () => {
  const s = await setup({ autoRestore: { steps: [25, 50, 75, 100], stepInterval: '5s' } });
  try {
    setOrigins(s.east, false);
    await waitFor(async () => (await s.region('us-east-1')).health === 'DOWN', 5000);
    setOrigins(s.east, true);
    await waitFor(async () => (await s.region('us-east-1')).dial === 25, 20_000);
    const set = await api(s.control.url, 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, {
      dial: 60,
      reason: 'take over',
    });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const { operation, regions } = await s.full();
    assert.equal(regions.find((r) => r.id === 'us-east-1')!.dial, 60);
    assert.equal(operation?.status, 'aborted');
    assert.match(operation?.message ?? '', /superseded by ops's dial 60/);
    assert.equal(regions.find((r) => r.id === 'us-east-1')!.autoRestore, null);
  } finally {
    await s.close();
  }
});

test('only the link between the edges cut: PARTITIONED, nothing evacuated', async () => {
  const s = await setup();
  try {
    s.east.report.peers = { 'us-west-2': false };
    s.west.report.peers = { 'us-east-1': false };
    await waitFor(async () => (await s.region('us-east-1')).health === 'PARTITIONED', 5000);
    const east = await s.region('us-east-1');
    const west = await s.region('us-west-2');
    assert.equal(west.health, 'PARTITIONED');
    assert.deepEqual([east.dial, west.dial], [100, 100]);
    assert.match(east.why, /witness can/);
  } finally {
    await s.close();
  }
});

test('the other region and the witness both lose us-east-1: DOWN', async () => {
  const s = await setup();
  try {
    s.east.unreachable = true;
    s.west.report.peers = { 'us-east-1': false };
    s.east.report.peers = { 'us-west-2': true };
    await waitFor(async () => (await s.region('us-east-1')).health === 'DOWN', 5000);
    assert.equal((await s.region('us-east-1')).dial, 0);
  } finally {
    await s.close();
  }
});

test('the last region up is never DOWN', async () => {
  const s = await setup();
  try {
    setOrigins(s.west, false);
    await waitFor(async () => (await s.region('us-west-2')).health === 'DOWN', 5000);
    setOrigins(s.east, false);
    await new Promise((r) => setTimeout(r, 1200));
    const east = await s.region('us-east-1');
    assert.notEqual(east.health, 'DOWN');
    assert.equal(east.dial, 100);
  } finally {
    await s.close();
  }
});
