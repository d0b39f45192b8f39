import assert from 'node:assert/strict';
import { test } from 'node:test';
import { twoRegions } from '../test-fixtures.js';
import { autoRestoreSteps, dueRestores } from './failover.js';
import type { FailedOverMark } from './types.js';

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
