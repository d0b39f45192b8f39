import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failOver } from './auto-restore.js';
import type { ControlState, OperationRecord } from './store/index.js';

const op = (extra: Partial<OperationRecord>): OperationRecord => ({
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

function state(dial: number, operation: OperationRecord | null): ControlState {
  return {
    version: 3,
    snapshot: { regions: [{ id: 'us-east-1', dial, health: 'DOWN' }] },
    healthWhy: [],
    operation,
  } as unknown as ControlState;
}

const cases = [
  {
    name: 'no operation: remembered with its dial',
    input: { dial: 70, op: null },
    expect: { remembered: 70, status: null },
  },
  {
    name: 'dial already 0 (operator evacuated): not remembered',
    input: { dial: 0, op: null },
    expect: { remembered: null, status: null },
  },
  {
    name: "an operator's restore running: aborted, not remembered",
    input: { dial: 25, op: op({}) },
    expect: { remembered: null, status: 'aborted' },
  },
  {
    name: "an operator's evacuation running: aborted, not remembered",
    input: { dial: 50, op: op({ kind: 'evacuate', steps: [50, 0] }) },
    expect: { remembered: null, status: 'aborted' },
  },
  {
    name: 'the automatic restore running: aborted, remembered with its target',
    input: { dial: 25, op: op({ auto: true, failover: true, who: 'control' }) },
    expect: { remembered: 80, status: 'aborted' },
  },
  {
    name: 'an operation on another region goes on',
    input: { dial: 100, op: op({ region: 'us-west-2' }) },
    expect: { remembered: 100, status: 'running' },
  },
];

for (const c of cases) {
  test(`failOver: ${c.name}`, () => {
    const draft = state(c.input.dial, c.input.op);
    failOver(draft, draft.snapshot.regions[0], 1000);
    assert.equal(draft.snapshot.regions[0].dial, 0);
    assert.equal(draft.failedOver?.find((f) => f.region === 'us-east-1')?.dial ?? null, c.expect.remembered);
    assert.equal(draft.operation?.status ?? null, c.expect.status);
  });
}

test('failOver after an automatic restore gave up on its gates: same target, tried afresh', () => {
  const draft = state(25, null);
  draft.failedOver = [{ region: 'us-east-1', dial: 100, at: 0, retryAt: 999_999 }];
  failOver(draft, draft.snapshot.regions[0], 1000);
  assert.equal(draft.snapshot.regions[0].dial, 0);
  assert.deepEqual(draft.failedOver, [{ region: 'us-east-1', dial: 100, at: 1000 }]);
});

test('failOver with autoRestore disabled remembers nothing', () => {
  const draft = state(100, null);
  failOver(draft, draft.snapshot.regions[0], 1000, false);
  assert.equal(draft.snapshot.regions[0].dial, 0);
  assert.equal(draft.failedOver, undefined);
});
