import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atSameStep } from './operation-step.js';
import type { OperationRecord } from './store/index.js';

const op: OperationRecord = {
  id: 'op-1',
  kind: 'evacuate',
  region: 'us-east-1',
  steps: [75, 50, 25, 0],
  stepIntervalMs: 1000,
  fromDial: 100,
  index: 1,
  status: 'running',
  phase: 'stepping',
  failures: 0,
  reason: 'drill',
  who: 'ops',
  startedAt: 1000,
  stepAt: 3000,
  message: 'step 2 applied',
};

test('a step is committed only from the step it was read at', () => {
  assert.equal(atSameStep(structuredClone(op), op), true);
});

test('another instance moved the operation on: nothing is applied (no step twice)', () => {
  assert.equal(atSameStep({ ...op, index: 2, stepAt: 4000 }, op), false, 'the next step is already applied');
  assert.equal(atSameStep({ ...op, stepAt: 4000 }, op), false, 'the same step applied again later');
  assert.equal(atSameStep({ ...op, index: 0, failures: 1, stepAt: 4000 }, op), false, 'backed off meanwhile');
});

test('a finished, aborted or different operation is never stepped', () => {
  assert.equal(atSameStep({ ...op, status: 'done' }, op), false);
  assert.equal(atSameStep({ ...op, status: 'aborted' }, op), false);
  assert.equal(atSameStep({ ...op, id: 'op-2' }, op), false);
  assert.equal(atSameStep(null, op), false);
});
