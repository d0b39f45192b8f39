// Retention headroom in control: an edge reports replicationRetention, control
// keeps the report schema strict, status carries it and `meridian status`
// prints a line per region whose headroom is low or that has a gap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withReplication } from '../src/edge/run-shared.js';
import { type EdgeReport, parseEdgeReport } from '../src/feed/report.js';
import { startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { runCliAsync, waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

const base = {
  region: 'us-east-1',
  at: 1,
  origins: [],
  requestsPerS: 0,
  errorRate: 0,
  p99Ms: 0,
  load: 0,
  capacity: 10,
  demandByHome: {},
  peers: {},
};

test('the report schema takes replicationRetention and nothing else inside it', () => {
  const retention = { headroomS: 12.5, low: true, gap: false, gapFrom: [] };
  assert.deepEqual(
    parseEdgeReport({ ...base, replicationRetention: retention }).replicationRetention,
    retention,
  );
  assert.throws(
    () => parseEdgeReport({ ...base, replicationRetention: { ...retention, extra: 1 } }),
    /not a valid edge report/,
  );
  assert.throws(
    () => parseEdgeReport({ ...base, replicationRetention: { ...retention, headroomS: -1 } }),
    /not a valid edge report/,
  );
  const none = withReplication(base as EdgeReport, { replicationRetention: () => null });
  assert.equal('replicationRetention' in none, false);
  assert.deepEqual(
    withReplication(base as EdgeReport, { replicationRetention: () => retention }).replicationRetention,
    retention,
  );
});

test('status carries each region retention and warns about low headroom and gaps', async () => {
  const example = await configWithFreePorts();
  const control = await startTestControl({}, { base: example.file });
  const east = await startFakeEdge('us-east-1', example.port(8101), control.url, TOKENS.agent);
  const west = await startFakeEdge('us-west-2', example.port(8201), control.url, TOKENS.agent);
  try {
    east.report.replicationRetention = { headroomS: 40, low: true, gap: false, gapFrom: [] };
    west.report.replicationRetention = { headroomS: 0, low: true, gap: true, gapFrom: ['us-east-1'] };
    type Region = { id: string; replicationRetention: EdgeReport['replicationRetention'] | null };
    const regions = async () =>
      (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as Region[];
    await waitFor(async () => (await regions()).every((r) => r.replicationRetention !== null), 5000);
    assert.deepEqual((await regions()).find((r) => r.id === 'us-west-2')?.replicationRetention, {
      headroomS: 0,
      low: true,
      gap: true,
      gapFrom: ['us-east-1'],
    });
    const r = await runCliAsync(['status'], { MERIDIAN_CONTROL: control.url, MERIDIAN_TOKEN: TOKENS.viewer });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /replication retention low into us-east-1 \(40 s left\)/);
    assert.match(
      r.stdout,
      /replication GAP into us-west-2: events from us-east-1 aged out .*meridian replication resync --region us-west-2 --from us-east-1/,
    );
    const bad = await api(control.url, 'POST', '/v1/reports', TOKENS.agent, {
      ...east.report,
      replicationRetention: { headroomS: 1, low: false, gap: false, gapFrom: [], sneaky: true },
    });
    assert.equal(bad.status, 400);
  } finally {
    await east.close();
    await west.close();
    await control.close();
  }
});
