import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abortOperation, newOperation, phaseOf, withPhase } from './record.js';
import type { OperationPhase, StoredOperation } from './types.js';

const stored = (extra: Partial<StoredOperation>): StoredOperation => ({
  id: 'op-1',
  kind: 'evacuate',
  region: 'us-east-1',
  steps: [50, 0],
  stepIntervalMs: 1000,
  fromDial: 100,
  index: 0,
  status: 'running',
  failures: 0,
  reason: '',
  who: 'ops',
  startedAt: 0,
  stepAt: 0,
  message: 'step 1 applied',
  ...extra,
});

const legacy: { name: string; input: Partial<StoredOperation>; expect: OperationPhase }[] = [
  { name: 'not started', input: { index: -1, message: 'starting' }, expect: 'pending' },
  {
    name: 'waiting for a scale-up',
    input: { index: -1, message: 'waiting for capacity (scale-up webhook called)' },
    expect: 'waiting-capacity',
  },
  { name: 'a step applied', input: {}, expect: 'stepping' },
  { name: 'capacity arrived', input: { message: 'capacity arrived; step 1 applied' }, expect: 'stepping' },
  {
    name: 'backed off',
    input: { index: -1, failures: 1, message: 'gate failed (x); backed off to dial 100' },
    expect: 'backing-off',
  },
  { name: 'done', input: { status: 'done', message: 'done: us-east-1 dial 0' }, expect: 'done' },
  { name: 'aborted', input: { status: 'aborted', message: 'aborted by ops: x' }, expect: 'aborted' },
];

for (const c of legacy) {
  test(`phaseOf a record written before phases: ${c.name}`, () => {
    assert.equal(phaseOf(stored(c.input)), c.expect);
    assert.equal(withPhase(stored(c.input)).phase, c.expect);
  });
}

test('a stored phase wins over the message', () => {
  const op = stored({ phase: 'stepping', index: -1, message: 'waiting for capacity' });
  assert.equal(phaseOf(op), 'stepping');
  assert.equal(withPhase(op), op, 'a record with a phase is taken as it is');
});

test('an old automatic restore is the restore after a failover; other old records are not', () => {
  assert.equal(withPhase(stored({ kind: 'restore', auto: true })).failover, true);
  assert.equal(withPhase(stored({ kind: 'restore' })).failover, undefined);
  assert.equal(withPhase(stored({ kind: 'evacuate', auto: true })).failover, undefined);
});

test('newOperation: pending, or waiting for capacity when a scale-up was asked for', () => {
  const base = {
    id: 'op-2',
    kind: 'restore' as const,
    region: 'us-east-1',
    steps: [50, 100],
    stepIntervalMs: 500,
    reason: 'r',
    who: 'control',
    fromDial: 0,
  };
  const op = newOperation({ ...base, waitForCapacity: false, auto: true, failover: true }, 7);
  assert.deepEqual(
    [op.phase, op.status, op.index, op.startedAt, op.stepAt, op.auto, op.failover],
    ['pending', 'running', -1, 7, 7, true, true],
  );
  const waiting = newOperation({ ...base, waitForCapacity: true }, 7);
  assert.equal(waiting.phase, 'waiting-capacity');
  assert.equal('auto' in waiting || 'failover' in waiting, false, 'flags only when set');
});

test("abortOperation: aborted where the dial stands, with the operator's audit entry", () => {
  const op = withPhase(stored({}));
  const out = abortOperation(op, { name: 'ops', role: 'operator' }, 'enough', 50, 9);
  assert.deepEqual(
    [out.operation.status, out.operation.phase, out.operation.stepAt, out.operation.message],
    ['aborted', 'aborted', 9, 'aborted by ops: enough; dial stays at 50'],
  );
  assert.deepEqual(out.audit, [
    {
      at: 9,
      who: 'ops',
      role: 'operator',
      action: 'abort',
      target: 'us-east-1',
      reason: 'enough',
      details: { operation: 'op-1' },
    },
  ]);
  assert.equal(op.status, 'running', 'the input is not changed');
});
