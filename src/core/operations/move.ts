// The machine of a move (evacuate or restore): apply a step, wait its
// interval, judge the gates in the receiving regions, then go on, back off
// one step, abort after too many failures, or finish.
import { checkGates, planMove } from '../evacuation-plan.js';
import type { Snapshot } from '../model.js';
import { ended, finishEntry, roleOf } from './record.js';
import type { MoveKind, Operation, OperationSettings, OperationStep, Readings } from './types.js';

/** How often a move waiting for capacity looks again (ms). */
export const CAPACITY_POLL_MS = 1000;

/** Regions a move sends traffic to: the others not DOWN for an evacuation, the region itself for a restore. */
export function receiversOf(snap: Snapshot, kind: MoveKind, region: string): string[] {
  if (kind === 'restore') return [region];
  return [...snap.regions.values()].filter((r) => r.id !== region && r.health !== 'DOWN').map((r) => r.id);
}

export function stepMove(
  op: Operation,
  snap: Snapshot,
  readings: Readings,
  now: number,
  s: OperationSettings,
): OperationStep {
  if (op.status !== 'running') return unchanged(op, Number.POSITIVE_INFINITY);
  if (op.phase === 'waiting-capacity') return waitForCapacity(op, snap, now, s);
  if (op.phase === 'pending') return applyStep(op, 0, 'step 1 applied', now);
  // Right after a (re)start or a takeover the reports are not all here yet: wait for them rather than fail a gate.
  const due = Math.max(op.stepAt + op.stepIntervalMs, s.warmUntil);
  if (now < due) return unchanged(op, due);
  const failures = checkGates(receiversOf(snap, op.kind, op.region), readings, s.gates);
  if (failures.length === 0) {
    const passed =
      op.index === op.steps.length - 1
        ? finish(op, 'done', `done: ${op.region} dial ${op.steps[op.index]}`, now)
        : applyStep(op, op.index + 1, `step ${op.index + 2} applied`, now);
    return { ...passed, gate: 'passed' };
  }
  return { ...gateFailed(op, failures, now, s), gate: 'failed', gateFailures: failures };
}

function gateFailed(op: Operation, failures: string[], now: number, s: OperationSettings): OperationStep {
  // At most back to before the first step: a second failure there stays at fromDial.
  const back = Math.max(op.index - 1, -1);
  const dial = back >= 0 ? op.steps[back] : op.fromDial;
  const count = op.failures + 1;
  if (count < s.gates.maxFailures) {
    const message = `gate failed (${failures.join('; ')}); backed off to dial ${dial}`;
    const next: Operation = {
      ...op,
      index: back,
      failures: count,
      phase: 'backing-off',
      stepAt: now,
      message,
    };
    return stepped(op, next, dial, now);
  }
  // Control's own restore of a failed-over region tries again later, from the dial it backed off to.
  const retryAt = op.failover ? now + s.autoRestoreRetryAfterMs : undefined;
  const message =
    `aborted after ${count} failed gates (${failures.join('; ')}); dial backed off to ${dial}` +
    (retryAt === undefined ? '' : `; control tries again at ${new Date(retryAt).toISOString()}`);
  const result = finish({ ...op, failures: count }, 'aborted', message, now);
  result.dials = [{ region: op.region, dial }];
  if (retryAt !== undefined)
    result.failedOver = { region: op.region, dial: op.steps.at(-1)!, at: op.startedAt, retryAt };
  return result;
}

function waitForCapacity(op: Operation, snap: Snapshot, now: number, s: OperationSettings): OperationStep {
  const plan = planMove(snap, op.region, op.steps, s.gates.margin);
  if (plan.ok) return applyStep(op, 0, 'capacity arrived; step 1 applied', now);
  if (now - op.startedAt > s.scaleUpWaitMs) {
    return finish(
      op,
      'aborted',
      `aborted: headroom ${plan.headroom} req/s never reached ${plan.needed} req/s`,
      now,
    );
  }
  return unchanged(op, now + CAPACITY_POLL_MS);
}

function applyStep(op: Operation, index: number, message: string, now: number): OperationStep {
  const next: Operation = { ...op, index, phase: 'stepping', stepAt: now, message };
  return stepped(op, next, op.steps[index], now);
}

function stepped(op: Operation, next: Operation, dial: number, now: number): OperationStep {
  const entry = {
    at: now,
    who: op.who,
    role: roleOf(op),
    action: `${op.kind}-step`,
    target: op.region,
    reason: op.reason,
    details: { operation: op.id, dial, index: next.index, message: next.message },
  };
  return {
    record: next,
    changed: true,
    dials: [{ region: op.region, dial }],
    audit: [entry],
    wakeAt: now + op.stepIntervalMs,
  };
}

function finish(op: Operation, status: 'done' | 'aborted', message: string, now: number): OperationStep {
  const operation = ended(op, status, message, now);
  return {
    record: operation,
    changed: true,
    dials: [],
    audit: [finishEntry(operation, status, now)],
    wakeAt: Number.POSITIVE_INFINITY,
  };
}

const unchanged = (op: Operation, wakeAt: number): OperationStep => ({
  record: op,
  changed: false,
  dials: [],
  audit: [],
  wakeAt,
});
