// Relative health with a real control and stand-in edges (real reporter, real witness probes):
// a region clearly worse than the other is evacuated in steps and restored once it recovers;
// all regions bad alike moves nothing; too little traffic is not judged; without headroom only
// part of the traffic moves. Timers are scaled down in config; nothing asserts speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EdgeReport } from '../src/feed/report.js';
import { startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { runCliAsync, waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

const OUTLIER = {
  enabled: true,
  fallAfter: '600ms',
  riseAfter: '1500ms',
  stepInterval: '300ms',
  probeAfter: '1s',
  steps: [50, 0],
  restoreSteps: [10, 50, 100],
};

interface Status {
  regions: { id: string; dial: number; demand: number; load: number }[];
  operation: { kind: string; region: string; status: string; auto?: boolean; reason: string } | null;
  outlier: {
    enabled: boolean;
    evacuated: { region: string; why: string; fromDial: number; phase: string }[];
    global: { at: number; why: string } | null;
    decisions: { region?: string; decision: string; why: string }[];
    regions: { region: string; verdict: string; why: string }[];
  };
}
interface Audit {
  action: string;
  who: string;
  role: string;
  target?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

/** Errors as the edge reports them: at its origins (before retries) and what clients got. */
const errors = (report: EdgeReport, rate: number) => {
  report.errorRate = rate;
  report.originErrorRate = rate;
  report.originRequestsPerS ??= report.requestsPerS;
};

const TWO = { file: 'examples/two-regions.yaml', edges: { 'us-east-1': 8101, 'us-west-2': 8201 } };
const THREE = {
  file: 'examples/three-regions.yaml',
  edges: { 'us-east-1': 8101, 'us-west-2': 8201, 'eu-west-1': 8301 },
};

async function setup(control: Record<string, unknown> = {}, regions: typeof TWO = TWO) {
  const example = await configWithFreePorts(regions.file);
  const server = await startTestControl({ outlier: OUTLIER, ...control }, { base: example.file });
  const ids = Object.keys(regions.edges) as (keyof typeof regions.edges)[];
  const edges = new Map<string, Awaited<ReturnType<typeof startFakeEdge>>>();
  for (const id of ids) {
    const edge = await startFakeEdge(id, example.port(regions.edges[id]), server.url, TOKENS.agent);
    edge.report.peers = Object.fromEntries(ids.filter((o) => o !== id).map((o) => [o, true]));
    errors(edge.report, 0);
    edges.set(id, edge);
  }
  const status = async () =>
    (await api(server.url, 'GET', '/v1/status', TOKENS.viewer)).json as unknown as Status;
  const dial = async (id: string) => (await status()).regions.find((r) => r.id === id)!.dial;
  const audit = async () =>
    (await api(server.url, 'GET', '/v1/audit?limit=100', TOKENS.viewer)).json.entries as Audit[];
  await waitFor(async () => (await status()).outlier.regions.length === ids.length, 5000);
  const close = async () => {
    for (const e of edges.values()) await e.close();
    await server.close();
  };
  return {
    server,
    edges,
    east: edges.get('us-east-1')!,
    west: edges.get('us-west-2')!,
    status,
    dial,
    audit,
    close,
  };
}

/** Every distinct dial of `region` seen until `until` holds. */
async function watchDials(
  s: Awaited<ReturnType<typeof setup>>,
  region: string,
  until: (st: Status) => boolean,
  timeoutMs = 20_000,
) {
  const dials: number[] = [];
  await waitFor(
    async () => {
      const st = await s.status();
      const d = st.regions.find((r) => r.id === region)!.dial;
      if (dials.at(-1) !== d) dials.push(d);
      return until(st);
    },
    timeoutMs,
    30,
  );
  return dials;
}

test('one region at 30 % errors while the other is at 0 %: evacuated in steps, then restored once back to 0 %', async (t) => {
  const s = await setup();
  try {
    errors(s.east.report, 0.3);
    const down = await watchDials(s, 'us-east-1', (st) =>
      st.outlier.evacuated.some((e) => e.region === 'us-east-1' && e.phase === 'evacuated'),
    );
    t.diagnostic(`dials while evacuating: ${down.join(' -> ')}`);
    assert.deepEqual(down.at(-1), 0);
    assert.ok(down.includes(50), `the 50 % step was applied first: ${down.join(' -> ')}`);
    assert.equal(await s.dial('us-west-2'), 100, 'the healthy region keeps its dial');
    const st = await s.status();
    const e = st.outlier.evacuated[0];
    assert.deepEqual([e.region, e.fromDial], ['us-east-1', 100]);
    assert.match(e.why, /error rate 30.0 % vs 0.0 %/);
    const audit = await s.audit();
    const redirect = audit.find((a) => a.action === 'outlier-redirect');
    assert.deepEqual([redirect?.who, redirect?.role, redirect?.target], ['control', 'system', 'us-east-1']);
    assert.match(redirect?.reason ?? '', /^outlier: error rate 30.0 % vs 0.0 %/);
    const evac = audit.find((a) => a.action === 'evacuate');
    assert.match(evac?.reason ?? '', /^outlier: /);
    assert.equal(evac?.details?.auto, true);
    assert.ok(audit.some((a) => a.action === 'evacuate-done' && a.who === 'control'));

    // What people see: /metrics, meridian status and meridian explain --control.
    const metrics = await (await fetch(new URL('/metrics', s.server.url))).text();
    assert.match(metrics, /meridian_control_outlier_evacuated\{region="us-east-1"\} 1/);
    assert.match(metrics, /meridian_control_outlier_evacuated\{region="us-west-2"\} 0/);
    const env = { MERIDIAN_CONTROL: s.server.url, MERIDIAN_TOKEN: TOKENS.viewer };
    const shown = await runCliAsync(['status'], env);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /us-east-1 .*evacuated as an outlier at .*error rate 30.0 % vs 0.0 %/);
    assert.match(shown.stdout, /last decision .* redirect us-east-1: outlier: error rate 30.0 %/);
    const why = await runCliAsync(
      ['explain', '--config', s.server.file, '--client', '128.59.1.1', '--control', s.server.url, '--json'],
      env,
    );
    assert.equal(why.status, 0, why.stderr);
    const explained = JSON.parse(why.stdout);
    assert.equal(explained.region, 'us-west-2', 'New York is steered away from the evacuated us-east-1');
    assert.ok(
      explained.control.notes.some((n: string) =>
        /us-east-1 dial 0: evacuated automatically as an outlier/.test(n),
      ),
      explained.control.notes.join('\n'),
    );

    errors(s.east.report, 0);
    const up = await watchDials(
      s,
      'us-east-1',
      (x) => x.outlier.evacuated.length === 0 && x.operation?.status === 'done',
    );
    t.diagnostic(`dials while restoring: ${up.join(' -> ')}`);
    assert.equal(up.at(-1), 100);
    assert.deepEqual(
      up,
      [...up].sort((a, b) => a - b),
      'the dial only goes up',
    );
    assert.ok(up.filter((d) => d > 0 && d < 100).length >= 1, `stepwise: ${up.join(' -> ')}`);
    const after = await s.audit();
    const restore = after.find((a) => a.action === 'outlier-restore');
    assert.match(restore?.reason ?? '', /^outlier: recovered: /);
    const op = (await s.status()).operation;
    assert.deepEqual([op?.kind, op?.auto, op?.status], ['restore', true, 'done']);
    assert.deepEqual(
      (await s.status()).outlier.decisions.map((d) => d.decision),
      ['redirect', 'restore'],
    );
  } finally {
    await s.close();
  }
});

test('both regions at 30 % errors: nothing is evacuated and `global` is raised', async () => {
  const s = await setup();
  try {
    errors(s.east.report, 0.3);
    errors(s.west.report, 0.3);
    await waitFor(async () => (await s.status()).outlier.global !== null, 10_000);
    // Longer than fallAfter plus a step: an evacuation would have started by now.
    await new Promise((r) => setTimeout(r, 1500));
    const st = await s.status();
    assert.match(st.outlier.global?.why ?? '', /every region serving is bad alike/);
    assert.deepEqual(
      st.regions.map((r) => r.dial),
      [100, 100],
    );
    assert.equal(st.operation, null);
    assert.deepEqual(st.outlier.evacuated, []);
    const audit = await s.audit();
    const held = audit.find((a) => a.action === 'outlier-global');
    assert.match(held?.reason ?? '', /holding every dial/);
    assert.ok(!audit.some((a) => a.action === 'outlier-redirect'));
    const metrics = await (await fetch(new URL('/metrics', s.server.url))).text();
    assert.match(metrics, /meridian_control_outlier_global 1/);
    const env = { MERIDIAN_CONTROL: s.server.url, MERIDIAN_TOKEN: TOKENS.viewer };
    const shown = await runCliAsync(['status'], env);
    assert.match(shown.stdout, /GLOBAL since .*every region serving is bad alike.*holding every dial/);
    const why = await runCliAsync(
      ['explain', '--config', s.server.file, '--client', '128.59.1.1', '--control', s.server.url],
      env,
    );
    assert.equal(why.status, 0, why.stderr);
    assert.match(why.stdout, /every dial held since .*global/);
  } finally {
    await s.close();
  }
});

test('below the minimum volume nothing is judged, however bad', async () => {
  const s = await setup({ outlier: { ...OUTLIER, minRequestsPerSecond: 5 } });
  try {
    for (const r of [s.east.report, s.west.report])
      Object.assign(r, { requestsPerS: 3, originRequestsPerS: 3 });
    errors(s.east.report, 0.9);
    await waitFor(
      async () => (await s.status()).outlier.regions.every((r) => r.verdict === 'unjudged'),
      5000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const st = await s.status();
    assert.match(st.outlier.regions.find((r) => r.region === 'us-east-1')!.why, /below 5 to judge/);
    assert.deepEqual(
      st.regions.map((r) => r.dial),
      [100, 100],
    );
    assert.equal(st.operation, null);
    assert.deepEqual(st.outlier.decisions, []);
  } finally {
    await s.close();
  }
});

test('receivers without headroom for all of it: only the part their headroom allows moves', async (t) => {
  const s = await setup();
  try {
    // us-east-1 serves 500 req/s; us-west-2 has 200 of headroom: with the 20 % margin, 166 req/s
    // (a third of us-east-1's traffic) may move: dial 67, not 0.
    Object.assign(s.east.report, { load: 500, requestsPerS: 500, demandByHome: { 'us-east-1': 500 } });
    Object.assign(s.west.report, { load: 800, requestsPerS: 800, demandByHome: { 'us-west-2': 800 } });
    await waitFor(async () => {
      const r = (await s.status()).regions;
      return r[0].demand === 500 && r[1].load === 800;
    }, 10_000);
    errors(s.east.report, 0.3);
    await waitFor(
      async () => (await s.status()).outlier.evacuated.some((e) => e.phase === 'evacuated'),
      20_000,
    );
    const st = await s.status();
    t.diagnostic(`decisions: ${st.outlier.decisions.map((d) => `${d.decision}: ${d.why}`).join(' | ')}`);
    assert.equal(await s.dial('us-east-1'), 67);
    assert.deepEqual(
      st.outlier.decisions.map((d) => d.decision),
      ['limit', 'redirect'],
    );
    assert.match(st.outlier.decisions[0].why, /headroom allows dial 67, not 0/);
    const redirect = (await s.audit()).find((a) => a.action === 'outlier-redirect' && a.details?.partial);
    assert.deepEqual(redirect?.details?.steps, [67]);
  } finally {
    await s.close();
  }
});

test('an evacuated region with no traffic to judge is probed after the cool-down; still worse there, it is evacuated again', async (t) => {
  const s = await setup();
  try {
    errors(s.east.report, 0.3);
    await waitFor(
      async () => (await s.status()).outlier.evacuated.some((e) => e.phase === 'evacuated'),
      20_000,
    );
    // Evacuated: its origins get nothing, so nothing says whether it recovered.
    s.east.report.originRequestsPerS = 0;
    await waitFor(async () => {
      const st = await s.status();
      return st.operation?.kind === 'restore' && st.operation.status === 'running';
    }, 20_000);
    const probe = (await s.audit()).find((a) => a.action === 'outlier-restore');
    assert.equal(probe?.details?.probe, true);
    assert.match(probe?.reason ?? '', /^outlier: probe: too little traffic to judge at dial 0/);
    // At the probe's dial its origins get traffic again, and still fail.
    s.east.report.originRequestsPerS = 100;
    await waitFor(async () => {
      const st = await s.status();
      return st.outlier.evacuated.some(
        (e) => e.phase === 'evacuated' && (e as { probes?: number }).probes === 1,
      );
    }, 20_000);
    const audit = await s.audit();
    t.diagnostic(
      audit
        .map((a) => `${a.action} ${a.reason ?? ''}`)
        .reverse()
        .join('\n'),
    );
    const abort = audit.find((a) => a.action === 'abort');
    assert.equal(abort?.who, 'control');
    assert.match(abort?.reason ?? '', /^outlier: still worse at the probe/);
    assert.equal(audit.filter((a) => a.action === 'outlier-redirect').length, 2, 'evacuated twice');
    assert.equal(await s.dial('us-east-1'), 0);
  } finally {
    await s.close();
  }
});

test("an operator's move on an evacuated region supersedes control's: it is not evacuated again while the operator holds it", async () => {
  const s = await setup();
  try {
    errors(s.east.report, 0.3);
    await waitFor(
      async () => (await s.status()).outlier.evacuated.some((e) => e.phase === 'evacuated'),
      20_000,
    );
    const back = await api(s.server.url, 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, {
      dial: 100,
      reason: 'I know what I am doing',
    });
    assert.equal(back.status, 200, JSON.stringify(back.json));
    // Longer than fallAfter and a step: control would have evacuated it again by now.
    await new Promise((r) => setTimeout(r, 2000));
    const st = await s.status();
    assert.equal(await s.dial('us-east-1'), 100);
    assert.deepEqual(st.outlier.evacuated, []);
    assert.equal((await s.audit()).filter((a) => a.action === 'outlier-redirect').length, 1);
  } finally {
    await s.close();
  }
});

test('three regions: two bad at once are not moved (not global either); one at a time, up to maxAutoEvacuated', async () => {
  const s = await setup({ outlier: { ...OUTLIER, maxAutoEvacuated: 1 } }, THREE);
  const restricted = async (region: string, why: RegExp) =>
    (await s.status()).outlier.decisions.some(
      (d) => d.decision === 'restrict' && d.region === region && why.test(d.why),
    );
  try {
    errors(s.east.report, 0.3);
    errors(s.west.report, 0.3);
    await waitFor(
      async () =>
        (await restricted('us-east-1', /us-west-2 is not healthy either/)) &&
        (await restricted('us-west-2', /us-east-1 is not healthy either/)),
      10_000,
    );
    let st = await s.status();
    assert.equal(st.outlier.global, null, 'eu-west-1 is healthy: not global');
    assert.deepEqual(
      st.regions.map((r) => r.dial),
      [100, 100, 100],
    );
    assert.equal(st.operation, null);

    errors(s.west.report, 0);
    await waitFor(
      async () =>
        (await s.status()).outlier.evacuated.some((e) => e.region === 'us-east-1' && e.phase === 'evacuated'),
      20_000,
    );
    errors(s.west.report, 0.3);
    await waitFor(async () => restricted('us-west-2', /maxAutoEvacuated 1/), 10_000);
    st = await s.status();
    assert.deepEqual(
      st.regions.map((r) => [r.id, r.dial]),
      [
        ['us-east-1', 0],
        ['us-west-2', 100],
        ['eu-west-1', 100],
      ],
    );
    assert.ok((await s.audit()).some((a) => a.action === 'outlier-restrict' && a.target === 'us-west-2'));
  } finally {
    await s.close();
  }
});

test('a rollback lands while the region is evacuated with no traffic: the probe finds it fine, and it is restored to full', async (t) => {
  const s = await setup();
  try {
    errors(s.east.report, 0.3);
    await waitFor(
      async () => (await s.status()).outlier.evacuated.some((e) => e.phase === 'evacuated'),
      20_000,
    );
    // The rollback lands; at dial 0 its origins get nothing to show it.
    s.east.report.originRequestsPerS = 0;
    errors(s.east.report, 0);
    await waitFor(async () => (await s.status()).operation?.kind === 'restore', 20_000);
    s.east.report.originRequestsPerS = 100; // what its probe dial brings
    const dials = await watchDials(
      s,
      'us-east-1',
      (st) => st.outlier.evacuated.length === 0 && st.operation?.status === 'done',
    );
    t.diagnostic(`dials while coming back: ${dials.join(' -> ')}`);
    assert.equal(dials.at(-1), 100);
    assert.ok(dials.includes(10), `the probe's dial 10 came first: ${dials.join(' -> ')}`);
    const decisions = (await s.status()).outlier.decisions;
    assert.deepEqual(
      decisions.map((d) => d.decision),
      ['redirect', 'restore', 'restore'],
    );
    assert.match(decisions[1].why, /^outlier: probe: /);
    assert.match(decisions[2].why, /^outlier: recovered: /);
  } finally {
    await s.close();
  }
});
