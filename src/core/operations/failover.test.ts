import assert from 'node:assert/strict';
import { test } from 'node:test';
import { twoRegions } from '../test-fixtures.js';
import { autoRestoreSteps, dueRestores, failOverRegion } from './failover.js';
import type { FailedOverMark, Operation } from './types.js';

const mark = (extra: Partial<FailedOverMark> = {}): FailedOverMark => ({
  region: 'us-east-1',
  dial: 100,
  at: 0,
  ...extra,
});

const cases = [
  { name: 'HEALTHY again below its dial: due', input: { east: { dial: 0 }, mark: mark() }, expect: true },
  {
    name: 'still DOWN: not due',
    input: { east: { dial: 0, health: 'DOWN' as const }, mark: mark() },
    expect: false,
  },
  {
    name: 'DEGRADED: not due',
    input: { east: { dial: 0, health: 'DEGRADED' as const }, mark: mark() },
    expect: false,
  },
  { name: 'already at its dial: not due', input: { east: { dial: 100 }, mark: mark() }, expect: false },
  {
    name: 'gates gave up, retry later: not due',
    input: { east: { dial: 25 }, mark: mark({ retryAt: 6000 }) },
    expect: false,
  },
  {
    name: 'gates gave up, retry time passed: due',
    input: { east: { dial: 25 }, mark: mark({ retryAt: 5000 }) },
    expect: true,
  },
  {
    name: 'a region no longer configured: not due',
    input: { east: { dial: 0 }, mark: mark({ region: 'gone' }) },
    expect: false,
  },
];

for (const c of cases) {
  test(`dueRestores: ${c.name}`, () => {
    const due = dueRestores([c.input.mark], twoRegions(c.input.east), 5000);
    assert.equal(due.length === 1, c.expect);
  });
}

test("dueRestores: control's own wait after a refused start holds a region back", () => {
  const snap = twoRegions({ dial: 0 });
  assert.equal(dueRestores([mark()], snap, 5000, new Map([['us-east-1', 7000]])).length, 0);
  assert.equal(dueRestores([mark()], snap, 7000, new Map([['us-east-1', 7000]])).length, 1);
});

test('autoRestoreSteps: the configured steps between the current dial and the target, then the target', () => {
  assert.deepEqual(autoRestoreSteps([25, 50, 75, 100], 100), [25, 50, 75, 100]);
  assert.deepEqual(autoRestoreSteps([25, 50, 75, 100], 70), [25, 50, 70]);
  assert.deepEqual(autoRestoreSteps([25, 50, 75, 100], 100, 25), [50, 75, 100]);
});

const moving = (extra: Partial<Operation> = {}): Operation => ({
  id: 'op-1',
  kind: 'restore',
  region: 'us-east-1',
  steps: [25, 50, 80],
  stepIntervalMs: 1000,
  fromDial: 0,
  index: 0,
  status: 'running',
  phase: 'stepping',
  failures: 0,
  reason: '',
  who: 'ops',
  startedAt: 0,
  stepAt: 0,
  message: 'step 1 applied',
  ...extra,
});

const downCases: {
  name: string;
  input: { dial: number; op: Operation | null; marks?: FailedOverMark[]; autoRestore?: boolean };
  expect: { remembered: number | null; status: string | null };
}[] = [
  {
    name: 'no operation: remembered with its dial',
    input: { dial: 70, op: null },
    expect: { remembered: 70, status: null },
  },
  {
    name: 'dial already 0 (an operator evacuated it): not remembered',
    input: { dial: 0, op: null },
    expect: { remembered: null, status: null },
  },
  {
    name: "an operator's restore running: aborted, not remembered",
    input: { dial: 25, op: moving() },
    expect: { remembered: null, status: 'aborted' },
  },
  {
    name: "control's outlier evacuation running: aborted, not remembered",
    input: { dial: 50, op: moving({ kind: 'evacuate', steps: [50, 0], auto: true, who: 'control' }) },
    expect: { remembered: null, status: 'aborted' },
  },
  {
    name: 'the restore after a failover running: aborted, remembered with its target',
    input: { dial: 25, op: moving({ auto: true, failover: true, who: 'control' }) },
    expect: { remembered: 80, status: 'aborted' },
  },
  {
    name: 'the restore after a failover, before its first step (dial 0): still remembered',
    input: { dial: 0, op: moving({ auto: true, failover: true, index: -1, phase: 'pending' }) },
    expect: { remembered: 80, status: 'aborted' },
  },
  {
    name: 'an operation on another region goes on',
    input: { dial: 100, op: moving({ region: 'us-west-2' }) },
    expect: { remembered: 100, status: 'running' },
  },
  {
    name: 'remembered from a restore that gave up: the same target again, retry time cleared',
    input: { dial: 25, op: null, marks: [mark({ dial: 100, retryAt: 999_999 })] },
    expect: { remembered: 100, status: null },
  },
  {
    name: 'autoRestore disabled: nothing remembered',
    input: { dial: 100, op: null, autoRestore: false },
    expect: { remembered: null, status: null },
  },
];

for (const c of downCases) {
  test(`failOverRegion: ${c.name}`, () => {
    const { dial, op, marks = [], autoRestore = true } = c.input;
    const out = failOverRegion({ id: 'us-east-1', dial }, op, marks, 1000, autoRestore);
    assert.equal(out.dial, 0);
    assert.equal(out.operation?.status ?? null, c.expect.status);
    assert.equal(out.aborted, c.expect.status === 'aborted');
    if (out.aborted) assert.equal(out.operation?.phase, 'aborted');
    const expected =
      c.expect.remembered === null ? null : { region: 'us-east-1', dial: c.expect.remembered, at: 1000 };
    assert.deepEqual(out.remember, expected);
  });
}
