import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CanarySample } from '../canary.js';
import { region, snapshot } from '../test-fixtures.js';
import {
  newRollout,
  pauseRollout,
  type RolloutPlan,
  type RolloutRecord,
  type RolloutWavePlan,
  rampSteps,
  regionsInRollout,
  requestAbort,
  resumeRollout,
  stepRollout,
  withActionResult,
} from './rollout.js';
import type { AuditLike } from './types.js';

const PLAN: RolloutPlan = {
  canarySteps: [10, 50, 100],
  bakeMs: 1000,
  betweenWavesMs: 500,
  minSamples: 5,
  thresholds: { maxErrorRateIncrease: 0.02, maxP99Ratio: 1.5, confidence: 0.95 },
  drainSteps: [50, 0],
  drainIntervalMs: 200,
  maxGateFailures: 3,
  gates: { errorRate: 0.05, p99Ms: 1000, maxLoad: 0.9 },
  verify: true,
};

interface World {
  dials: Map<string, number>;
  version: Map<string, string>;
  /** Error rate a region's edge reports, from what it runs. */
  errorRate: (region: string, version: string) => number;
  /** Whether an action succeeds. */
  actionOk: (name: string, region: string, attempt: number) => boolean;
  /** Regions whose edge serves no requests. */
  idle?: Set<string>;
  /** Gate readings' error rate per region (receivers of a drain, the region a restore brings back). */
  gateErrorRate?: (region: string, now: number) => number;
}

interface Trace {
  rollout: RolloutRecord;
  entries: AuditLike[];
  actions: string[];
  dials: string[];
  phases: string[];
  audit: string[];
}

/** Runs the machine against a simulated world, 100 ms a tick, actions answering on the next tick. */
function simulate(
  waves: RolloutWavePlan[],
  world: World,
  opts: {
    plan?: Partial<RolloutPlan>;
    until?: number;
    onTick?: (r: RolloutRecord, now: number) => RolloutRecord;
  } = {},
): Trace {
  const plan = { ...PLAN, ...opts.plan };
  const ids = [...world.dials.keys()];
  const samples = new Map<string, CanarySample[]>(ids.map((id) => [id, []]));
  let now = 1_000_000;
  let r = newRollout({
    id: 'r1',
    version: 'v2',
    previousVersion: 'v1',
    waves,
    dials: world.dials,
    who: 'ops',
    now,
  });
  const trace: Trace = { rollout: r, entries: [], actions: [], dials: [], phases: [], audit: [] };
  for (
    let tick = 0;
    tick < (opts.until ?? 2000) && (r.status === 'running' || r.status === 'paused');
    tick++
  ) {
    now += 100;
    for (const id of ids) {
      const v = world.version.get(id)!;
      samples.get(id)!.push({
        at: now,
        errorRate: world.errorRate(id, v),
        p99Ms: 20,
        requestsPerS: world.idle?.has(id) ? 0 : 100,
      });
    }
    if (opts.onTick) r = opts.onTick(r, now);
    const readings = new Map(
      ids.map((id) => [
        id,
        { errorRate: world.gateErrorRate?.(id, now) ?? 0, p99Ms: 20, load: 100, capacity: 1000 },
      ]),
    );
    const snap = snapshot(
      ids.map((id) => region(id, 0, 0, { dial: world.dials.get(id)!, health: 'HEALTHY' })),
    );
    const out = stepRollout(r, snap, { gates: readings, samples }, now, plan);
    r = out.record;
    for (const { region: id, dial: d } of out.dials) {
      world.dials.set(id, d);
      trace.dials.push(`${id}=${d}`);
    }
    for (const a of out.audit) trace.audit.push(a.action);
    trace.entries.push(...out.audit);
    if (trace.phases.at(-1) !== r.phase) trace.phases.push(r.phase);
    for (const a of out.actions) {
      trace.actions.push(`${a.name} ${a.region}`);
      const ok = world.actionOk(a.name, a.region, a.attempt);
      if (ok && a.name === 'deploy') world.version.set(a.region, r.version);
      if (ok && a.name === 'rollback') world.version.set(a.region, r.previousVersion!);
      r = withActionResult(r, a.id, { ok, message: ok ? 'exit 0' : 'exit 1' }, now)!;
    }
  }
  trace.rollout = r;
  return trace;
}

const TWO = [
  { regions: ['east'], strategy: 'drain' as const },
  { regions: ['west'], strategy: 'drain' as const },
];
const world = (over: Partial<World> = {}): World => ({
  dials: new Map([
    ['east', 100],
    ['west', 100],
  ]),
  version: new Map([
    ['east', 'v1'],
    ['west', 'v1'],
  ]),
  errorRate: () => 0.001,
  actionOk: () => true,
  ...over,
});

test('rampSteps: the plan below where the dial was, then where it was', () => {
  assert.deepEqual(rampSteps([10, 50, 100], 100), [10, 50, 100]);
  assert.deepEqual(rampSteps([10, 50, 100], 60), [10, 50, 60]);
  assert.deepEqual(rampSteps([10, 50, 100], 0), [0]);
});

const cases: {
  name: string;
  waves: RolloutWavePlan[];
  world: World;
  plan?: Partial<RolloutPlan>;
  status: string;
  actions: string[];
  dials: [string, number][];
  versions: [string, string][];
  phases?: string[];
  dialTrace?: string[];
  why?: RegExp;
}[] = [
  {
    name: 'good rollout across two drain waves',
    waves: TWO,
    world: world(),
    status: 'done',
    actions: ['deploy east', 'verify east', 'deploy west', 'verify west'],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v2'],
      ['west', 'v2'],
    ],
    phases: [
      'draining',
      'deploying',
      'verifying',
      'canary',
      'baking',
      'between-waves',
      'draining',
      'deploying',
      'verifying',
      'canary',
      'baking',
      'done',
    ],
    dialTrace: [
      'east=50',
      'east=0',
      'east=10',
      'east=50',
      'east=100',
      'west=50',
      'west=0',
      'west=10',
      'west=50',
      'west=100',
    ],
  },
  {
    name: 'bad canary in the first wave: rolled back there only, second wave untouched',
    waves: TWO,
    world: world({ errorRate: (_r, v) => (v === 'v2' ? 0.3 : 0.001) }),
    status: 'rolled-back',
    actions: ['deploy east', 'verify east', 'rollback east'],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v1'],
      ['west', 'v1'],
    ],
    phases: ['draining', 'deploying', 'verifying', 'canary', 'rolling-back', 'restoring', 'done'],
    dialTrace: ['east=50', 'east=0', 'east=10', 'east=0', 'east=10', 'east=50', 'east=100'],
    why: /judgement failed for east at dial 10: worse than baseline: error rate 30.0 %/,
  },
  {
    name: 'bad only in the second wave: both reached regions rolled back, newest first',
    waves: TWO,
    world: world({ errorRate: (r, v) => (r === 'west' && v === 'v2' ? 0.3 : 0.001) }),
    status: 'rolled-back',
    actions: ['deploy east', 'verify east', 'deploy west', 'verify west', 'rollback west', 'rollback east'],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v1'],
      ['west', 'v1'],
    ],
    why: /judgement failed for west/,
  },
  {
    name: 'a failed deploy rolls back the region it reached',
    waves: TWO,
    world: world({ actionOk: (name) => name !== 'deploy' }),
    status: 'rolled-back',
    actions: ['deploy east', 'rollback east'],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v1'],
      ['west', 'v1'],
    ],
    why: /deploy of v2 in east failed: exit 1/,
  },
  {
    name: 'a failing rollback is tried three times, then reported',
    waves: TWO,
    world: world({ actionOk: (name) => name === 'deploy' }),
    status: 'rolled-back',
    actions: ['deploy east', 'verify east', 'rollback east', 'rollback east', 'rollback east'],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v2'],
      ['west', 'v1'],
    ],
    why: /rollback FAILED in east/,
  },
  {
    name: 'in-place waves deploy while serving: dials never move',
    waves: [{ regions: ['east', 'west'], strategy: 'in-place' }],
    world: world({
      dials: new Map([
        ['east', 100],
        ['west', 100],
        ['south', 100],
      ]),
      version: new Map([
        ['east', 'v1'],
        ['west', 'v1'],
        ['south', 'v1'],
      ]),
    }),
    plan: { verify: false },
    status: 'done',
    actions: ['deploy east', 'deploy west'],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v2'],
      ['west', 'v2'],
    ],
    phases: ['deploying', 'baking', 'done'],
    dialTrace: [],
  },
  {
    name: 'gates failing in the receivers while draining: rolled back before any deploy',
    waves: TWO,
    world: world({ gateErrorRate: (r) => (r === 'west' ? 0.2 : 0) }),
    status: 'rolled-back',
    actions: [],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v1'],
      ['west', 'v1'],
    ],
    why: /gates failed 3 times while draining: west: error rate 20.0 %/,
  },
  {
    name: 'a region kept at dial 0 serves nobody: deployed, nothing to judge, stays at 0',
    waves: [TWO[0]],
    world: world({
      dials: new Map([
        ['east', 0],
        ['west', 100],
      ]),
      idle: new Set(['east']),
    }),
    status: 'done',
    actions: ['deploy east', 'verify east'],
    dials: [
      ['east', 0],
      ['west', 100],
    ],
    versions: [
      ['east', 'v2'],
      ['west', 'v1'],
    ],
    phases: ['deploying', 'verifying', 'canary', 'done'],
    dialTrace: [],
  },
  {
    name: 'a region kept at dial 60 ramps back to 60, not 100',
    waves: [TWO[0]],
    world: world({
      dials: new Map([
        ['east', 60],
        ['west', 100],
      ]),
    }),
    status: 'done',
    actions: ['deploy east', 'verify east'],
    dials: [
      ['east', 60],
      ['west', 100],
    ],
    versions: [
      ['east', 'v2'],
      ['west', 'v1'],
    ],
    dialTrace: ['east=50', 'east=0', 'east=10', 'east=50', 'east=60'],
  },
  {
    name: 'a drain wave of two regions: each drained by its own move, one after the other',
    waves: [{ regions: ['east', 'west'], strategy: 'drain' }],
    world: world({
      dials: new Map([
        ['east', 100],
        ['west', 100],
        ['south', 100],
      ]),
      version: new Map([
        ['east', 'v1'],
        ['west', 'v1'],
        ['south', 'v1'],
      ]),
    }),
    status: 'done',
    actions: ['deploy east', 'deploy west', 'verify east', 'verify west'],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v2'],
      ['west', 'v2'],
    ],
    phases: ['draining', 'deploying', 'verifying', 'canary', 'baking', 'done'],
    dialTrace: [
      'east=50',
      'east=0',
      'west=50',
      'west=0',
      'east=10',
      'west=10',
      'east=50',
      'west=50',
      'east=100',
      'west=100',
    ],
  },
  {
    name: 'a gate failing once while draining: the move backs off a step, then the drain goes on',
    waves: [TWO[0]],
    // The first judgement of the drain (at 1 000 300, 200 ms after its first step) sees west failing.
    world: world({ gateErrorRate: (r, now) => (r === 'west' && now === 1_000_300 ? 0.2 : 0) }),
    status: 'done',
    actions: ['deploy east', 'verify east'],
    dials: [
      ['east', 100],
      ['west', 100],
    ],
    versions: [
      ['east', 'v2'],
      ['west', 'v1'],
    ],
    dialTrace: ['east=50', 'east=100', 'east=50', 'east=0', 'east=10', 'east=50', 'east=100'],
  },
  {
    name: 'a restore whose gates keep failing: the dial stays where its gates left it, and the message says so',
    waves: TWO,
    world: world({
      errorRate: (_r, v) => (v === 'v2' ? 0.3 : 0.001),
      gateErrorRate: (r) => (r === 'east' ? 0.2 : 0),
    }),
    status: 'rolled-back',
    actions: ['deploy east', 'verify east', 'rollback east'],
    dials: [
      ['east', 0],
      ['west', 100],
    ],
    versions: [
      ['east', 'v1'],
      ['west', 'v1'],
    ],
    phases: ['draining', 'deploying', 'verifying', 'canary', 'rolling-back', 'restoring', 'done'],
    dialTrace: ['east=50', 'east=0', 'east=10', 'east=0', 'east=10', 'east=0'],
    why: /judgement failed for east .*; dials not restored \(gates failed\): east at 0 \(was 100\)$/,
  },
];

for (const c of cases) {
  test(`rollout machine: ${c.name}`, () => {
    const t = simulate(c.waves, c.world, { plan: c.plan });
    assert.equal(t.rollout.status, c.status, t.rollout.message);
    assert.deepEqual(t.actions, c.actions);
    for (const [id, d] of c.dials) assert.equal(c.world.dials.get(id), d, `dial of ${id}`);
    for (const [id, v] of c.versions) assert.equal(c.world.version.get(id), v, `version of ${id}`);
    if (c.phases) assert.deepEqual(t.phases, c.phases);
    if (c.dialTrace) assert.deepEqual(t.dials, c.dialTrace);
    if (c.why) assert.match(t.rollout.message, c.why);
    assert.equal(t.rollout.phase, 'done');
    assert.deepEqual(
      t.rollout.regionsReached,
      c.actions.filter((a) => a.startsWith('deploy')).map((a) => a.split(' ')[1]),
    );
  });
}

test('rollout machine: every judgement is recorded with its metrics', () => {
  const t = simulate(TWO, world({ errorRate: (_r, v) => (v === 'v2' ? 0.3 : 0.001) }));
  assert.equal(t.rollout.judgements.length, 1);
  const j = t.rollout.judgements[0];
  assert.equal(j.region, 'east');
  assert.equal(j.dial, 10);
  assert.equal(j.pass, false);
  const err = j.metrics.find((m) => m.name === 'error-rate')!;
  assert.equal(err.canary, 0.3);
  assert.equal(err.baseline, 0.001);
  assert.ok(err.pValue !== null && err.pValue < 0.05);
  assert.ok(t.audit.includes('rollout-judgement') && t.audit.includes('rollout-rollback'));
});

test('rollout machine: paused, nothing moves; resumed, it finishes', () => {
  let pausedAt = 0;
  let dialsWhilePaused = '';
  const w = world();
  const t = simulate(TWO, w, {
    onTick: (r, now) => {
      if (r.phase === 'canary' && pausedAt === 0) {
        pausedAt = now;
        dialsWhilePaused = JSON.stringify([...w.dials]);
        return pauseRollout(r, 'ops', now);
      }
      if (r.status === 'paused') {
        assert.equal(JSON.stringify([...w.dials]), dialsWhilePaused);
        if (now - pausedAt >= 5000) return resumeRollout(r, 'ops', now);
      }
      return r;
    },
  });
  assert.ok(pausedAt > 0);
  assert.equal(t.rollout.status, 'done');
});

test('rollout machine: abort during the second wave rolls back both regions, status aborted', () => {
  const w = world();
  const t = simulate(TWO, w, {
    onTick: (r, now) =>
      r.waveIndex === 1 && r.phase === 'canary' && !r.abortRequested
        ? requestAbort(r, 'ops', 'stop', now)
        : r,
  });
  assert.equal(t.rollout.status, 'aborted');
  assert.match(t.rollout.message, /aborted by ops: stop/);
  assert.deepEqual(t.actions.slice(-2), ['rollback west', 'rollback east']);
  assert.deepEqual(
    [...w.dials],
    [
      ['east', 100],
      ['west', 100],
    ],
  );
});

test('rollout machine: waits for the running action, and does nothing when not running', () => {
  const r = newRollout({
    id: 'r',
    version: 'v2',
    previousVersion: 'v1',
    waves: [{ regions: ['east'], strategy: 'in-place' }],
    dials: new Map([['east', 100]]),
    who: 'ops',
    now: 0,
  });
  const snap = snapshot([region('east', 0, 0, { dial: 100 })]);
  const none = { gates: new Map(), samples: new Map() };
  const first = stepRollout(r, snap, none, 1, PLAN);
  assert.deepEqual(
    first.actions.map((a) => a.name),
    ['deploy'],
  );
  const again = stepRollout(first.record, snap, none, 5000, PLAN);
  assert.equal(again.changed, false, 'the deploy is still running');
  assert.equal(again.wakeAt, Number.POSITIVE_INFINITY, "only the action's result moves it on");
  assert.equal(again.record, first.record, 'unchanged: the same record');
  assert.equal(again.actions.length, 0);
  const done = stepRollout({ ...first.record, status: 'done' }, snap, none, 1, PLAN);
  assert.equal(done.changed, false);
  assert.equal(withActionResult(first.record, 'someone-else', { ok: true, message: '' }, 2), null);
});

test('rollout machine: a region called __proto__ is an ordinary region', () => {
  const w = world({
    dials: new Map([
      ['__proto__', 100],
      ['west', 100],
    ]),
    version: new Map([
      ['__proto__', 'v1'],
      ['west', 'v1'],
    ]),
  });
  const t = simulate([{ regions: ['__proto__'], strategy: 'drain' }], w);
  assert.equal(t.rollout.status, 'done', t.rollout.message);
  assert.equal(w.version.get('__proto__'), 'v2');
  assert.deepEqual(Object.keys(t.rollout.regions), ['__proto__']);
  const stored = JSON.parse(JSON.stringify(t.rollout)).regions;
  assert.equal(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value.version, 'v2');
});

test('regionsInRollout: the current wave, or every wave reached while rolling back', () => {
  const seen: string[][] = [];
  simulate(TWO, world({ errorRate: (r, v) => (r === 'west' && v === 'v2' ? 0.3 : 0.001) }), {
    onTick: (r) => {
      const now = regionsInRollout(r);
      if (JSON.stringify(seen.at(-1)) !== JSON.stringify(now)) seen.push(now);
      return r;
    },
  });
  assert.deepEqual(seen, [[], ['east'], ['west'], ['east', 'west']]);
  assert.deepEqual(regionsInRollout(null), []);
});

test('rollout machine: abort while draining stops the move; the dial comes back through a restore, nothing deployed', () => {
  const w = world();
  const t = simulate([TWO[0]], w, {
    onTick: (r, now) =>
      r.phase === 'draining' && r.move?.phase === 'stepping' && !r.abortRequested
        ? requestAbort(r, 'ops', 'stop', now)
        : r,
  });
  assert.equal(t.rollout.status, 'aborted', t.rollout.message);
  assert.deepEqual(t.actions, []);
  assert.deepEqual(t.dials, ['east=50', 'east=100'], 'not dropped to 0: east was never deployed');
  assert.equal(t.rollout.move, null);
  const moves = t.entries.filter((e) => e.details?.move !== undefined);
  assert.deepEqual(
    moves.map((e) => [e.action, e.target, e.details?.phase, e.details?.kind, e.details?.dials]),
    [
      ['rollout-step', 'east', 'draining', 'evacuate', { east: 50 }],
      ['rollout-step', 'east', 'restoring', 'restore', { east: 100 }],
      ['rollout-step', 'east', 'restoring', 'restore', undefined],
    ],
  );
  assert.ok(
    moves.every((e) => e.who === 'ops' && e.role === 'operator' && e.details?.rollout === 'r1'),
    "entries of the embedded moves are the rollout's",
  );
});

/** A record as stored before drains and restores were embedded moves. */
function legacy(phase: 'draining' | 'restoring', over: Partial<RolloutRecord> = {}): RolloutRecord {
  const r = newRollout({
    id: 'r0',
    version: 'v2',
    previousVersion: 'v1',
    waves: [TWO[0]],
    dials: new Map([
      ['east', 100],
      ['west', 100],
    ]),
    who: 'ops',
    now: 0,
  });
  const { move: _move, restoreLeft: _left, ...old } = r;
  return { ...old, phase, waveIndex: 0, step: 1, gateFailures: 1, phaseAt: 0, ...over } as RolloutRecord;
}

const legacyCases: {
  name: string;
  record: RolloutRecord;
  eastDial: number;
  expect: { dials: { region: string; dial: number }[]; kind: string; steps: number[]; wakeAt: number };
}[] = [
  {
    name: 'draining, dial at the first drain step: a move takes the rest of the drain',
    record: legacy('draining'),
    eastDial: 50,
    expect: { dials: [{ region: 'east', dial: 0 }], kind: 'evacuate', steps: [0], wakeAt: 1200 },
  },
  {
    name: 'restoring, dial at a ramp step: a restore move takes the rest of the ramp',
    record: legacy('restoring', { failure: { why: 'bad', aborted: false } }),
    eastDial: 10,
    expect: { dials: [{ region: 'east', dial: 50 }], kind: 'restore', steps: [50, 100], wakeAt: 1200 },
  },
];

for (const c of legacyCases) {
  test(`rollout machine, a stored record without a move: ${c.name}`, () => {
    const snap = snapshot([region('east', 0, 0, { dial: c.eastDial }), region('west', 0, 0)]);
    const gates = new Map(
      ['east', 'west'].map((id) => [id, { errorRate: 0, p99Ms: 20, load: 1, capacity: 1000 }]),
    );
    const out = stepRollout(c.record, snap, { gates, samples: new Map() }, 1000, PLAN);
    assert.equal(out.changed, true);
    assert.deepEqual(out.dials, c.expect.dials);
    assert.equal(out.record.move?.kind, c.expect.kind);
    assert.deepEqual(out.record.move?.steps, c.expect.steps);
    assert.equal(out.record.move?.phase, 'stepping');
    assert.equal(out.wakeAt, c.expect.wakeAt, 'woken when the move judges its gates');
  });
}
