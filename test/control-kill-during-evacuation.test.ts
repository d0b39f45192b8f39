// Issue 13: the leading control instance is SIGKILLed while an evacuation
// runs; the surviving instance (etcd store) picks the operation up at the step
// it reached and finishes it, and `meridian dns` and the edges, given both
// instances, follow it to the final state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsAnswer, regionServing, stop } from './control-deployment.js';
import { api, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { REGION_OF, SETTINGS, startPartitionedDeployment } from './control-partition-deployment.js';
import { requireProgram } from './helpers/programs.js';

const NY = { subnet: '128.59.0.0/24', client: '128.59.0.10' };
const WEST_A = '198.51.100.10';
const STEPS = [75, 50, 25, 0];
/** Long enough that the kill lands between two steps, short enough to keep the test brief. */
const STEP_INTERVAL_MS = 2 * SETTINGS.leaseTtlMs;

type Operation = { id: string; status: string; index: number; message: string };
type Audit = { at: number; who: string; action: string; details?: Record<string, unknown> };

const streamClients = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^meridian_control_stream_clients (\d+)/m.exec(text)?.[1] ?? 0);
};

test('leader killed mid-evacuation: the survivor finishes it, DNS and edges follow', async (t) => {
  const etcd = requireProgram(t, 'etcd');
  if (!etcd || !requireProgram(t, 'kdig')) return;
  // No partition here: the deployment's relays stay open. Control in A starts first and leads.
  const d = await startPartitionedDeployment(etcd, 'A');
  const east = REGION_OF.A;
  try {
    await waitFor(
      async () => {
        const s = await api(d.controlUrl.A, 'GET', '/v1/status', TOKENS.viewer);
        const regions = s.json.regions as { id: string; health: string; dial: number }[];
        for (const r of regions)
          if (r.health === 'HEALTHY' && r.dial !== 100)
            await api(d.controlUrl.A, 'PUT', `/v1/regions/${r.id}/dial`, TOKENS.operator, { dial: 100 });
        const op = (await api(d.controlUrl.A, 'GET', '/v1/operations/current', TOKENS.viewer)).json
          .operation as { status: string } | null;
        return regions.every((r) => r.health === 'HEALTHY' && r.dial === 100) && op?.status !== 'running';
      },
      60_000,
      250,
    );
    const started = await api(d.controlUrl.A, 'POST', '/v1/operations', TOKENS.operator, {
      kind: 'evacuate',
      region: east,
      steps: STEPS,
      stepIntervalMs: STEP_INTERVAL_MS,
      reason: 'kill drill',
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    const id = (started.json.operation as Operation).id;
    const current = async (url: string) =>
      (await api(url, 'GET', '/v1/operations/current', TOKENS.viewer)).json.operation as Operation | null;

    // Mid-way: the second step is applied, two remain.
    await waitFor(async () => (await current(d.controlUrl.A))?.index === 1, 30 * STEP_INTERVAL_MS, 50);
    const killedAt = Date.now();
    await stop(d.controls.A.child, 'SIGKILL');
    await waitFor(() => d.leads('B'), 20 * SETTINGS.leaseTtlMs, 100);
    t.diagnostic(`B leads ${Date.now() - killedAt} ms after the leader was killed`);

    const done = (await waitFor(
      async () => {
        const op = await current(d.controlUrl.B);
        return op?.id === id && op.status !== 'running' ? op : undefined;
      },
      30 * STEP_INTERVAL_MS,
      200,
    ))!;
    assert.equal(done.status, 'done', done.message);
    const status = await api(d.controlUrl.B, 'GET', '/v1/status', TOKENS.viewer);
    const dial = (status.json.regions as { id: string; dial: number }[]).find((r) => r.id === east)!.dial;
    assert.equal(dial, 0, 'the evacuation reached its last step');

    // Every step once, in order; the ones after the kill, and the finish, by the survivor.
    const audit = (await api(d.controlUrl.B, 'GET', '/v1/audit?limit=200', TOKENS.viewer)).json
      .entries as Audit[];
    const ours = audit.filter((a) => a.details?.operation === id).reverse();
    const steps = ours.filter((a) => a.action === 'evacuate-step');
    assert.deepEqual(
      steps.map((a) => [a.details?.index, a.details?.dial]),
      STEPS.map((s, i) => [i, s]),
      'each step applied exactly once',
    );
    const survivor = String(steps.at(-1)?.details?.instance);
    const killed = String(steps[0].details?.instance);
    assert.notEqual(survivor, killed, 'a different instance applied the last step');
    for (const a of steps.filter((x) => x.at > killedAt)) assert.equal(a.details?.instance, survivor);
    const finish = ours.find((a) => a.action === 'evacuate-done');
    assert.ok(finish, 'the finish is in the audit');
    assert.equal(finish.details?.instance, survivor, 'finished by the surviving instance');
    assert.equal(finish.who, 'ops', 'on behalf of the operator who started it');
    t.diagnostic(
      `steps by ${steps.map((a) => String(a.details?.instance)).join(', ')}; finished by ${survivor}`,
    );

    // The data planes followed the new leader: both DNS servers send New York to us-west-2, and
    // us-east-1's edge hands its New York users to us-west-2.
    await waitFor(
      async () =>
        (await dnsAnswer(d.dnsPort.A, NY.subnet)) === WEST_A &&
        (await dnsAnswer(d.dnsPort.B, NY.subnet)) === WEST_A &&
        (await regionServing(d.edgeUrl.A, NY.client)) === REGION_OF.B,
      30 * STEP_INTERVAL_MS,
      250,
    );
    // Both DNS servers and both edges follow B (each reconnects after its own backoff).
    await waitFor(async () => (await streamClients(d.controlUrl.B)) === 4, 30 * STEP_INTERVAL_MS, 250);
  } finally {
    await d.close();
  }
});
