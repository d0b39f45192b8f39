// Evacuation and restore through the CLI against a control plane with stand-in edges.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { runCliAsync, waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

async function setup(dir?: string) {
  const example = await configWithFreePorts();
  const control = await startTestControl({}, { base: example.file, dir });
  const east = await startFakeEdge('us-east-1', example.port(8101), control.url, TOKENS.agent);
  const west = await startFakeEdge('us-west-2', example.port(8201), control.url, TOKENS.agent);
  const dial = async (id: string) =>
    (
      (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as {
        id: string;
        dial: number;
      }[]
    ).find((r) => r.id === id)!.dial;
  const env = { MERIDIAN_CONTROL: control.url, MERIDIAN_TOKEN: TOKENS.operator };
  // Control publishes load once it has had a full report window (observer.warmUntil): plans need it.
  await waitFor(
    async () =>
      ((await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as { load: number }[]).every(
        (r) => r.load > 0,
      ),
    15_000,
    100,
  );
  const s = {
    control,
    east,
    west,
    dial,
    env,
    example,
    // The edges a test swapped in (s.east = ...), not the first pair: those are closed already.
    close: async () => {
      await s.east.close();
      await s.west.close();
      await s.control.close();
    },
  };
  return s;
}

test('evacuate with --json prints the plan and one line per step; restore brings it back', async () => {
  const s = await setup();
  try {
    const lines: Record<string, unknown>[] = [];
    const r = await runCliAsync(
      ['evacuate', 'us-east-1', '--steps', '50,0', '--step-interval', '300ms', '--reason', 'drill', '--json'],
      s.env,
      (l) => lines.push(JSON.parse(l)),
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(lines[0].event, 'plan');
    const plan = lines[0].plan as { steps: { dial: number; regions: { region: string; load: number }[] }[] };
    assert.deepEqual(
      plan.steps.map((st) => [st.dial, st.regions.map((x) => x.load)]),
      [
        [50, [50, 150]],
        [0, [0, 200]],
      ],
    );
    // The CLI polls; a step it did not catch in flight is still shown, in order.
    const progress = lines
      .filter((l) => l.event === 'progress' && (l.step as number) >= 1)
      .map((p) => [p.dial, p.status]);
    assert.deepEqual(progress, [
      [50, 'running'],
      [0, 'running'],
      [0, 'done'],
    ]);
    assert.equal(await s.dial('us-east-1'), 0);
    const back = await runCliAsync(
      ['restore', 'us-east-1', '--steps', '50,100', '--step-interval', '300ms'],
      s.env,
    );
    assert.equal(back.status, 0, back.stderr);
    assert.match(back.stdout, /restore us-east-1 from dial 0 %/);
    assert.equal(await s.dial('us-east-1'), 100);
    const audit = (await api(s.control.url, 'GET', '/v1/audit?limit=20', TOKENS.viewer)).json.entries as {
      action: string;
      who: string;
      reason?: string;
    }[];
    assert.ok(audit.some((a) => a.action === 'evacuate' && a.who === 'ops' && a.reason === 'drill'));
  } finally {
    await s.close();
  }
});

test('a failing gate backs off one step; repeated failure aborts at a consistent dial', async () => {
  const s = await setup();
  try {
    s.west.report.errorRate = 0.5;
    const r = await runCliAsync(
      ['evacuate', 'us-east-1', '--steps', '50,0', '--step-interval', '200ms', '--json'],
      s.env,
    );
    assert.equal(r.status, 1, r.stdout);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"event"'))
      .map((l) => JSON.parse(l));
    const messages = lines.filter((l) => l.event === 'progress').map((l) => l.message as string);
    assert.ok(
      messages.some((m) => /failed gates \(us-west-2: error rate 50.0 %/.test(m)),
      messages.join('\n'),
    );
    assert.match(r.stdout, /"code": "GATE_FAILED"/);
    const audit = (await api(s.control.url, 'GET', '/v1/audit?limit=20', TOKENS.viewer)).json.entries as {
      action: string;
      details: { message?: string };
    }[];
    const backOffs = audit.filter(
      (a) => a.action === 'evacuate-step' && /backed off/.test(a.details.message ?? ''),
    );
    assert.equal(backOffs.length, 2, 'two back-offs, then the third failure aborts');
    assert.equal(await s.dial('us-east-1'), 100, 'backed off to where it started');
  } finally {
    await s.close();
  }
});

test('an operation survives a control restart and resumes from the applied step', async () => {
  const s = await setup();
  let again: Awaited<ReturnType<typeof startTestControl>> | undefined;
  try {
    const started = await api(s.control.url, 'POST', '/v1/operations', TOKENS.operator, {
      kind: 'evacuate',
      region: 'us-east-1',
      steps: [50, 0],
      stepIntervalMs: 1500,
      reason: 'restart test',
    });
    assert.equal(started.status, 201);
    await waitFor(async () => (await s.dial('us-east-1')) === 50, 3000);
    await s.control.close();
    again = await startTestControl({}, { base: s.example.file, dir: s.control.dir });
    // The edges report to the old URL; report to the new one with a fresh pair of stand-ins.
    const port = (u: string) => Number(new URL(u).port);
    await s.east.close();
    await s.west.close();
    s.east = await startFakeEdge('us-east-1', s.example.port(8101), again.url, TOKENS.agent);
    s.west = await startFakeEdge('us-west-2', s.example.port(8201), again.url, TOKENS.agent);
    assert.ok(port(again.url) > 0);
    const op = async () =>
      (await api(again!.url, 'GET', '/v1/operations/current', TOKENS.viewer)).json.operation as {
        status: string;
        index: number;
      };
    assert.equal((await op()).status, 'running');
    await waitFor(async () => (await op()).status === 'done', 8000, 100);
    assert.equal((await op()).index, 1);
  } finally {
    await s.close();
    await again?.close();
  }
});

test('without headroom the scale-up webhook is called and the evacuation waits for reported capacity', async () => {
  const calls: Record<string, unknown>[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      calls.push(JSON.parse(body));
      res.end('{}');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/scale`;
  const example = await configWithFreePorts();
  const control = await startTestControl(
    { scaleUp: { webhook: hookUrl, wait: '30s' } },
    { base: example.file },
  );
  const east = await startFakeEdge('us-east-1', example.port(8101), control.url, TOKENS.agent);
  const west = await startFakeEdge('us-west-2', example.port(8201), control.url, TOKENS.agent);
  Object.assign(east.report, { load: 600, demandByHome: { 'us-east-1': 600 } });
  Object.assign(west.report, { load: 500, demandByHome: { 'us-west-2': 500 } });
  const current = async () =>
    (await api(control.url, 'GET', '/v1/operations/current', TOKENS.viewer)).json.operation as {
      status: string;
      index: number;
      message: string;
    };
  try {
    await waitFor(
      async () => {
        const r = (await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as {
          demand: number;
        }[];
        return r[0].demand === 600 && r[1].demand === 500;
      },
      10_000,
      200,
    );
    const started = await api(control.url, 'POST', '/v1/operations', TOKENS.operator, {
      kind: 'evacuate',
      region: 'us-east-1',
      steps: [0],
      stepIntervalMs: 200,
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    await waitFor(() => calls.length === 1, 5000);
    assert.deepEqual(
      { region: calls[0].region, needed: calls[0].needed, headroom: calls[0].headroom },
      { region: 'us-east-1', needed: 720, headroom: 500 },
    );
    assert.match((await current()).message, /waiting for capacity/);
    assert.equal((await current()).index, -1, 'nothing moved while waiting');
    west.report.capacity = 2000;
    await waitFor(async () => (await current()).status === 'done', 15_000, 200);
  } finally {
    await east.close();
    await west.close();
    await control.close();
    await new Promise((r) => hook.close(r));
  }
});
