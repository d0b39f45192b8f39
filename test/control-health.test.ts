// Health and automatic failover with stand-in edges (real reporter, real witness probes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

async function setup() {
  const example = await configWithFreePorts();
  const control = await startTestControl({}, { base: example.file });
  const east = await startFakeEdge('us-east-1', example.port(8101), control.url, TOKENS.agent);
  const west = await startFakeEdge('us-west-2', example.port(8201), control.url, TOKENS.agent);
  east.report.peers = { 'us-west-2': true };
  west.report.peers = { 'us-east-1': true };
  const status = async () =>
    (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as {
      id: string;
      health: string;
      dial: number;
      why: string;
    }[];
  const region = async (id: string) => (await status()).find((r) => r.id === id)!;
  await waitFor(async () => (await region('us-east-1')).health === 'HEALTHY', 5000);
  const close = async () => {
    await east.close();
    await west.close();
    await control.close();
  };
  return { control, east, west, region, close };
}

test('all us-east-1 origins failing: DOWN and dial 0 within 5 s; up again after the rise time', async (t) => {
  const s = await setup();
  try {
    const t0 = Date.now();
    s.east.report.origins = s.east.report.origins.map((o) => ({ ...o, healthy: false }));
    await waitFor(async () => {
      const r = await s.region('us-east-1');
      return r.health === 'DOWN' && r.dial === 0;
    }, 5000);
    t.diagnostic(`DOWN with dial 0 after ${Date.now() - t0} ms (fallAfter 300 ms, reports every 100 ms)`);
    assert.notEqual((await s.region('us-west-2')).health, 'DOWN');
    s.east.report.origins = s.east.report.origins.map((o) => ({ ...o, healthy: true }));
    // Back up after riseAfter (2 s); DEGRADED counts too: a slow witness probe on a busy machine says so.
    await waitFor(async () => (await s.region('us-east-1')).health !== 'DOWN', 15_000);
    assert.equal(
      (await s.region('us-east-1')).dial,
      0,
      'coming back does not restore the dial: the operator does',
    );
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
    s.west.report.origins = s.west.report.origins.map((o) => ({ ...o, healthy: false }));
    await waitFor(async () => (await s.region('us-west-2')).health === 'DOWN', 5000);
    s.east.report.origins = s.east.report.origins.map((o) => ({ ...o, healthy: false }));
    await new Promise((r) => setTimeout(r, 1200));
    const east = await s.region('us-east-1');
    assert.notEqual(east.health, 'DOWN');
    assert.equal(east.dial, 100);
  } finally {
    await s.close();
  }
});
