import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GateReading } from '../evacuation-plan.js';
import type { Snapshot } from '../model.js';
import { east, region, snapshot, twoRegions, west } from '../test-fixtures.js';
import { stepOperation } from './index.js';
import type { Operation, OperationSettings } from './types.js';

const settings: OperationSettings = {
  gates: { errorRate: 0.05, p99Ms: 1000, maxLoad: 0.9, margin: 0.2, maxFailures: 3 },
  autoRestoreRetryAfterMs: 300_000,
  scaleUpWaitMs: 0,
  warmUntil: 0,
};

const evacuation = (extra: Partial<Operation> = {}): Operation => ({
  id: 'op-1',
  kind: 'evacuate',
  region: 'us-east-1',
  steps: [50, 0],
  stepIntervalMs: 1000,
  fromDial: 100,
  index: -1,
  status: 'running',
  phase: 'pending',
  failures: 0,
  reason: 'drill',
  who: 'ops',
  startedAt: 10_000,
  stepAt: 10_000,
  message: 'starting',
  ...extra,
});

/** Applied step `index` at 10 s, so gates are due at 11 s. */
const atStep = (index: number, extra: Partial<Operation> = {}) =>
  evacuation({ index, phase: 'stepping', message: `step ${index + 1} applied`, ...extra });

const restore = (extra: Partial<Operation> = {}) =>
  atStep(0, { kind: 'restore', steps: [50, 100], fromDial: 0, ...extra });

const fine: GateReading = { errorRate: 0, p99Ms: 100, load: 100, capacity: 1000 };
const readings = (r: Record<string, Partial<GateReading> | null> = {}) => {
  const out = new Map<string, GateReading>([
    ['us-east-1', fine],
    ['us-west-2', fine],
  ]);
  for (const [id, v] of Object.entries(r)) {
    if (v === null) out.delete(id);
    else out.set(id, { ...fine, ...v });
  }
  return out;
};

/** us-east-1 serves 900 req/s; us-west-2 has `westFree` req/s of headroom. */
const busy = (westFree: number) =>
  twoRegions({ load: 900, demand: 900 }, { capacity: 1000, load: 1000 - westFree, demand: 1000 - westFree });

interface Case {
  name: string;
  input: {
    op: Operation;
    now: number;
    snapshot?: Snapshot;
    readings?: Map<string, GateReading>;
    settings?: Partial<OperationSettings>;
  };
  expect: {
    changed: boolean;
    phase: Operation['phase'];
    index?: number;
    failures?: number;
    dials?: number[];
    audit?: string[];
    wakeAt?: number;
    gate?: 'passed' | 'failed';
    /** The failed gates the step names (what a rollout's drain reports when it aborts). */
    gateFailures?: string[];
    message?: RegExp;
    retryAt?: number;
  };
}

const INF = Number.POSITIVE_INFINITY;

const cases: Case[] = [
  {
    name: 'pending: the first step is applied at once',
    input: { op: evacuation(), now: 10_500 },
    expect: {
      changed: true,
      phase: 'stepping',
      index: 0,
      dials: [50],
      audit: ['evacuate-step'],
      wakeAt: 11_500,
      message: /^step 1 applied$/,
    },
  },
  {
    name: 'stepping, interval not over: nothing to commit, wake when it is',
    input: { op: atStep(0), now: 10_400 },
    expect: { changed: false, phase: 'stepping', index: 0, dials: [], audit: [], wakeAt: 11_000 },
  },
  {
    name: 'interval over but reports not all in after a takeover: wait for the warm-up',
    input: { op: atStep(0), now: 11_000, settings: { warmUntil: 12_500 } },
    expect: { changed: false, phase: 'stepping', dials: [], wakeAt: 12_500 },
  },
  {
    name: 'gates pass: the next step',
    input: { op: atStep(0), now: 11_000 },
    expect: {
      changed: true,
      phase: 'stepping',
      index: 1,
      dials: [0],
      audit: ['evacuate-step'],
      gate: 'passed',
      wakeAt: 12_000,
      message: /^step 2 applied$/,
    },
  },
  {
    name: 'gates pass at the last step: done, dial left as it is',
    input: { op: atStep(1), now: 11_000 },
    expect: {
      changed: true,
      phase: 'done',
      index: 1,
      dials: [],
      audit: ['evacuate-done'],
      gate: 'passed',
      wakeAt: INF,
      message: /^done: us-east-1 dial 0$/,
    },
  },
  {
    name: 'a receiver over the error rate: back off one step',
    input: { op: atStep(1), now: 11_000, readings: readings({ 'us-west-2': { errorRate: 0.2 } }) },
    expect: {
      changed: true,
      phase: 'backing-off',
      index: 0,
      failures: 1,
      dials: [50],
      audit: ['evacuate-step'],
      gate: 'failed',
      wakeAt: 12_000,
      message: /^gate failed \(us-west-2: error rate 20\.0 % > 5\.0 %\); backed off to dial 50$/,
    },
  },
  {
    name: 'a gate fails at the first step: back to the dial before the operation',
    input: { op: atStep(0), now: 11_000, readings: readings({ 'us-west-2': { p99Ms: 3000 } }) },
    expect: { changed: true, phase: 'backing-off', index: -1, failures: 1, dials: [100], gate: 'failed' },
  },
  {
    name: 'backing off: gates judged again after the interval, then on',
    input: { op: atStep(0, { phase: 'backing-off', failures: 1 }), now: 11_000 },
    expect: { changed: true, phase: 'stepping', index: 1, failures: 1, dials: [0], gate: 'passed' },
  },
  {
    name: 'backed off to the start: the first step again only after the interval',
    input: { op: atStep(-1, { phase: 'backing-off', failures: 1 }), now: 10_500 },
    expect: { changed: false, phase: 'backing-off', index: -1, dials: [], wakeAt: 11_000 },
  },
  {
    name: 'backed off to the start, gates fail again: it stays at the dial before the operation',
    input: {
      op: atStep(-1, { phase: 'backing-off', failures: 1 }),
      now: 11_000,
      readings: readings({ 'us-west-2': { errorRate: 0.2 } }),
    },
    expect: {
      changed: true,
      phase: 'backing-off',
      index: -1,
      failures: 2,
      dials: [100],
      gate: 'failed',
      gateFailures: ['us-west-2: error rate 20.0 % > 5.0 %'],
    },
  },
  {
    name: 'backed off to the start twice, then gates pass: the first step again',
    input: { op: atStep(-1, { phase: 'backing-off', failures: 2 }), now: 11_000 },
    expect: { changed: true, phase: 'stepping', index: 0, failures: 2, dials: [50], gate: 'passed' },
  },
  {
    name: 'a receiver with no recent report fails the gate',
    input: { op: atStep(0), now: 11_000, readings: readings({ 'us-west-2': null }) },
    expect: { changed: true, phase: 'backing-off', gate: 'failed', message: /us-west-2: no recent report/ },
  },
  {
    name: 'a receiver at its load limit fails the gate',
    input: { op: atStep(0), now: 11_000, readings: readings({ 'us-west-2': { load: 950 } }) },
    expect: { changed: true, phase: 'backing-off', gate: 'failed', message: /load 950\/1000 >= 90\.0 %/ },
  },
  {
    name: 'replication lag above the RPO fails the gate',
    input: {
      op: atStep(0),
      now: 11_000,
      readings: readings({ 'us-west-2': { replicationLagMs: 9000 } }),
      settings: { gates: { ...settings.gates, rpoMs: 5000 } },
    },
    expect: { changed: true, phase: 'backing-off', gate: 'failed', message: /9000 ms/ },
  },
  {
    name: 'the evacuated region itself is not judged',
    input: { op: atStep(0), now: 11_000, readings: readings({ 'us-east-1': { errorRate: 0.5 } }) },
    expect: { changed: true, phase: 'stepping', index: 1, gate: 'passed' },
  },
  {
    name: 'a DOWN region receives nothing and is not judged',
    input: {
      op: atStep(0),
      now: 11_000,
      snapshot: snapshot([east(), west({ health: 'DOWN' }), region('eu-west-1', 53.3, -6.3)]),
      readings: readings({ 'us-west-2': null, 'eu-west-1': {} }),
    },
    expect: { changed: true, phase: 'stepping', index: 1, gate: 'passed' },
  },
  {
    name: 'a restore judges the region it brings back, not the others',
    input: {
      op: restore(),
      now: 11_000,
      readings: readings({ 'us-east-1': { errorRate: 0.3 }, 'us-west-2': { errorRate: 0.3 } }),
    },
    expect: {
      changed: true,
      phase: 'backing-off',
      index: -1,
      dials: [0],
      audit: ['restore-step'],
      gate: 'failed',
    },
  },
  {
    name: 'restore, gates pass: up a step',
    input: { op: restore(), now: 11_000, readings: readings({ 'us-west-2': { errorRate: 0.3 } }) },
    expect: { changed: true, phase: 'stepping', index: 1, dials: [100], gate: 'passed' },
  },
  {
    name: "maxFailures reached: an operator's evacuation aborts at the backed-off dial",
    input: {
      op: atStep(1, { failures: 2 }),
      now: 11_000,
      readings: readings({ 'us-west-2': { errorRate: 1 } }),
    },
    expect: {
      changed: true,
      phase: 'aborted',
      failures: 3,
      dials: [50],
      audit: ['evacuate-aborted'],
      gate: 'failed',
      wakeAt: INF,
      message: /^aborted after 3 failed gates \(.*\); dial backed off to 50$/,
    },
  },
  {
    name: 'maxFailures reached by the restore after a failover: remembered, tried again after retryAfter',
    input: {
      op: restore({ auto: true, failover: true, who: 'control', failures: 2 }),
      now: 11_000,
      readings: readings({ 'us-east-1': { errorRate: 1 } }),
    },
    expect: {
      changed: true,
      phase: 'aborted',
      dials: [0],
      audit: ['restore-aborted'],
      gate: 'failed',
      retryAt: 311_000,
      message: /; control tries again at 1970-01-01T00:05:11\.000Z$/,
    },
  },
  {
    name: "maxFailures reached by another of control's moves (an outlier's): not remembered for a failover restore",
    input: {
      op: atStep(1, { auto: true, who: 'control', failures: 2 }),
      now: 11_000,
      readings: readings({ 'us-west-2': { errorRate: 1 } }),
    },
    expect: {
      changed: true,
      phase: 'aborted',
      dials: [50],
      gate: 'failed',
      message: /dial backed off to 50$/,
    },
  },
  {
    name: 'waiting for capacity, none yet: look again in a second',
    input: {
      op: evacuation({ phase: 'waiting-capacity' }),
      now: 12_000,
      snapshot: busy(100),
      settings: { scaleUpWaitMs: 60_000 },
    },
    expect: { changed: false, phase: 'waiting-capacity', index: -1, dials: [], wakeAt: 13_000 },
  },
  {
    name: 'waiting for capacity, it arrived: the first step',
    input: {
      op: evacuation({ phase: 'waiting-capacity' }),
      now: 12_000,
      snapshot: busy(5000),
      settings: { scaleUpWaitMs: 60_000 },
    },
    expect: {
      changed: true,
      phase: 'stepping',
      index: 0,
      dials: [50],
      message: /^capacity arrived; step 1 applied$/,
    },
  },
  {
    name: 'waiting for capacity longer than scaleUp.wait: aborted, dial untouched',
    input: {
      op: evacuation({ phase: 'waiting-capacity' }),
      now: 70_001,
      snapshot: busy(100),
      settings: { scaleUpWaitMs: 60_000 },
    },
    expect: {
      changed: true,
      phase: 'aborted',
      dials: [],
      audit: ['evacuate-aborted'],
      message: /^aborted: headroom 100 req\/s never reached 1080 req\/s$/,
    },
  },
  {
    name: 'finished: nothing more, ever',
    input: { op: atStep(1, { status: 'done', phase: 'done' }), now: 99_000 },
    expect: { changed: false, phase: 'done', dials: [], audit: [], wakeAt: INF },
  },
];

for (const c of cases) {
  test(`stepOperation: ${c.name}`, () => {
    const { op, now } = c.input;
    const before = structuredClone(op);
    const s = { ...settings, ...c.input.settings };
    const out = stepOperation(op, c.input.snapshot ?? twoRegions(), c.input.readings ?? readings(), now, s);
    const e = c.expect;
    assert.deepEqual(op, before, 'the input operation is never changed');
    assert.equal(out.changed, e.changed, 'changed');
    assert.equal(out.changed, out.record !== op, 'an unchanged step returns the same operation');
    assert.equal(out.record.phase, e.phase, 'phase');
    assert.equal(out.record.status, e.phase === 'done' || e.phase === 'aborted' ? e.phase : 'running');
    if (e.index !== undefined) assert.equal(out.record.index, e.index, 'index');
    if (e.failures !== undefined) assert.equal(out.record.failures, e.failures, 'failures');
    if (e.dials)
      assert.deepEqual(
        out.dials,
        e.dials.map((dial) => ({ region: op.region, dial })),
      );
    if (e.audit)
      assert.deepEqual(
        out.audit.map((a) => a.action),
        e.audit,
      );
    if (e.wakeAt !== undefined) assert.equal(out.wakeAt, e.wakeAt, 'wakeAt');
    assert.equal(out.gate, e.gate, 'gate');
    assert.equal(
      out.gateFailures !== undefined,
      out.gate === 'failed',
      'failed gates named exactly when a gate failed',
    );
    if (e.gateFailures) assert.deepEqual(out.gateFailures, e.gateFailures);
    if (e.message) assert.match(out.record.message, e.message);
    if (out.changed) assert.equal(out.record.stepAt, now, 'a change is stamped with now');
    if (e.retryAt === undefined) assert.equal(out.failedOver, undefined, 'nothing remembered');
    else
      assert.deepEqual(out.failedOver, {
        region: op.region,
        dial: 100,
        at: op.startedAt,
        retryAt: e.retryAt,
      });
  });
}

test('stepOperation: audit entries name the operation, the dial and who started it', () => {
  const out = stepOperation(
    atStep(0, { auto: true, who: 'control' }),
    twoRegions(),
    readings(),
    11_000,
    settings,
  );
  assert.deepEqual(out.audit, [
    {
      at: 11_000,
      who: 'control',
      role: 'system',
      action: 'evacuate-step',
      target: 'us-east-1',
      reason: 'drill',
      details: { operation: 'op-1', dial: 0, index: 1, message: 'step 2 applied' },
    },
  ]);
});

test('stepOperation: a whole evacuation, stepped as control does (at each wakeAt), backs off once and finishes', () => {
  let op = evacuation({ steps: [75, 50, 25, 0] });
  let now = 10_000;
  const dials: number[] = [];
  // us-west-2's error rate is over the gate exactly once: when judged at 13 s.
  const bad = new Set([13_000]);
  for (let i = 0; i < 20 && op.status === 'running'; i++) {
    const r = bad.has(now) ? readings({ 'us-west-2': { errorRate: 0.5 } }) : readings();
    const out = stepOperation(op, twoRegions(), r, now, settings);
    dials.push(...out.dials.map((d) => d.dial));
    op = out.record;
    now = out.wakeAt;
  }
  assert.deepEqual(dials, [75, 50, 25, 50, 25, 0]);
  assert.deepEqual([op.status, op.phase, op.failures], ['done', 'done', 1]);
});
