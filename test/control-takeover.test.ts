// A new leader has seen only the reports sent to it while it followed. It
// waits one report window before judging health or gates, so a takeover never
// reads "no recent report" as a region gone bad or a gate failed (which would
// mark healthy regions DEGRADED and back a running evacuation off a step).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

type Audit = { at: number; action: string; details?: Record<string, unknown> };

test('a takeover with an overdue step: the new leader waits for reports, backs nothing off, marks nothing', async () => {
  const example = await configWithFreePorts();
  // Two instances on one SQLite file: one leads, the other follows (a lease row).
  const first = await startTestControl({}, { base: example.file, stateFile: `${example.dir}/control.db` });
  const second = await startTestControl(
    {},
    { base: example.file, dir: first.dir, stateFile: `${example.dir}/control.db` },
  );
  const leads = async (url: string) => (await api(url, 'GET', '/v1/health')).json.isLeader === true;
  const [leader, follower] = (await waitFor(() => leads(first.url), 5000))
    ? [first, second]
    : [second, first];
  // The edges report to the leader only, as edges following it do.
  let edges = await Promise.all(
    (['us-east-1', 'us-west-2'] as const).map((r, i) =>
      startFakeEdge(r, example.port(i === 0 ? 8101 : 8201), leader.url, TOKENS.agent),
    ),
  );
  try {
    await waitFor(async () => {
      const s = await api(leader.url, 'GET', '/v1/status', TOKENS.viewer);
      return (s.json.regions as { health: string }[]).every((r) => r.health === 'HEALTHY');
    }, 10_000);
    const started = await api(leader.url, 'POST', '/v1/operations', TOKENS.operator, {
      kind: 'evacuate',
      region: 'us-east-1',
      steps: [50, 0],
      stepIntervalMs: 300,
      reason: 'takeover drill',
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    const id = (started.json.operation as { id: string }).id;
    await waitFor(async () => {
      const op = (await api(leader.url, 'GET', '/v1/operations/current', TOKENS.viewer)).json.operation;
      return (op as { index: number }).index === 0;
    }, 5000);

    // The leader goes away (its edges with it); the next step is due by the time the follower leads.
    await Promise.all(edges.map((e) => e.close()));
    await leader.close();
    await waitFor(() => leads(follower.url), 10_000, 20);
    const tookOver = Date.now();
    edges = await Promise.all(
      (['us-east-1', 'us-west-2'] as const).map((r, i) =>
        startFakeEdge(r, example.port(i === 0 ? 8101 : 8201), follower.url, TOKENS.agent),
      ),
    );
    await waitFor(
      async () =>
        (
          (await api(follower.url, 'GET', '/v1/operations/current', TOKENS.viewer)).json.operation as {
            status: string;
          }
        ).status !== 'running',
      20_000,
    );
    const audit = (await api(follower.url, 'GET', '/v1/audit?limit=100', TOKENS.viewer)).json
      .entries as Audit[];
    const steps = audit
      .filter((a) => a.details?.operation === id && a.action === 'evacuate-step')
      .reverse()
      .map((a) => a.details?.dial);
    assert.deepEqual(steps, [50, 0], 'no step backed off by a gate without reports');
    assert.ok(audit.some((a) => a.details?.operation === id && a.action === 'evacuate-done'));
    const marked = audit.filter((a) => a.action === 'health' && a.at >= tookOver);
    assert.deepEqual(marked, [], 'no region marked for lack of reports the old leader had');
  } finally {
    await Promise.all(edges.map((e) => e.close()));
    await first.close();
    await second.close();
  }
});
