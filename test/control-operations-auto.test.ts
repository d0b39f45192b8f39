// control's own moves (an outlier's evacuation) through Operations.start(req, actor, true):
// the core machine runs them like an operator's, with phases, and an operator's dial supersedes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OperationRecord } from '../src/control/store/index.js';
import { startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

async function setup() {
  const example = await configWithFreePorts();
  const control = await startTestControl({}, { base: example.file });
  const east = await startFakeEdge('us-east-1', example.port(8101), control.url, TOKENS.agent);
  const west = await startFakeEdge('us-west-2', example.port(8201), control.url, TOKENS.agent);
  const status = async () => (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json;
  await waitFor(
    async () => ((await status()).regions as { load: number }[]).every((r) => r.load > 0),
    15_000,
    100,
  );
  const current = async () =>
    (await api(control.url, 'GET', '/v1/operations/current', TOKENS.viewer)).json
      .operation as OperationRecord;
  const close = async () => {
    await east.close();
    await west.close();
    await control.close();
  };
  return { control, current, close };
}

const outlierMove = (stepIntervalMs: number) => ({
  kind: 'evacuate' as const,
  region: 'us-east-1',
  steps: [50, 0],
  stepIntervalMs,
  reason: 'outlier: error rate 30 % against 0 %',
});
const system = { name: 'control', role: 'system' };

test("control's own evacuation of a region that was never failed over runs to done through the phases", async () => {
  const s = await setup();
  try {
    const { operation } = await s.control.context.operations.start(outlierMove(300), system, true);
    assert.equal(operation?.auto, true);
    assert.equal(operation?.failover, undefined, 'not the restore after a failover');
    const phases = new Set<string>();
    const done = await waitFor(async () => {
      const op = await s.current();
      phases.add(op.phase);
      return op.status === 'done' ? op : undefined;
    }, 15_000);
    assert.equal(done?.phase, 'done');
    assert.ok(phases.has('stepping'), [...phases].join(','));
    const audit = (await api(s.control.url, 'GET', '/v1/audit?limit=20', TOKENS.viewer)).json.entries as {
      action: string;
      role: string;
    }[];
    assert.deepEqual(
      audit.filter((a) => a.action.startsWith('evacuate')).map((a) => [a.action, a.role]),
      [
        ['evacuate-done', 'system'],
        ['evacuate-step', 'system'],
        ['evacuate-step', 'system'],
        ['evacuate', 'system'],
      ],
    );
  } finally {
    await s.close();
  }
});

test("an operator's dial supersedes control's own evacuation of the region", async () => {
  const s = await setup();
  try {
    await s.control.context.operations.start(outlierMove(60_000), system, true);
    await waitFor(async () => (await s.current()).phase === 'stepping', 5000);
    const r = await api(s.control.url, 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, { dial: 80 });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const op = await s.current();
    assert.deepEqual([op.status, op.phase], ['aborted', 'aborted']);
    assert.match(op.message, /superseded by ops's dial 80/);
  } finally {
    await s.close();
  }
});
