// Making, ending and reading operation records: the transitions that come
// from outside the machine's own steps (start, an operator's abort, being
// superseded, the region going DOWN).
import type { AuditLike, MoveKind, Operation, OperationPhase, StoredOperation } from './types.js';

/** The audit role of an operation's own entries. */
export const roleOf = (op: Pick<Operation, 'auto'>) => (op.auto ? 'system' : 'operator');

/**
 * The phase of a stored record. Records written before phases existed carry
 * none; theirs is derived once here, from the fields and (only for them) the
 * message the old code wrote. Nothing else reads the message.
 */
export function phaseOf(op: StoredOperation): OperationPhase {
  if (op.phase) return op.phase;
  if (op.status !== 'running') return op.status;
  if (op.message.startsWith('gate failed')) return 'backing-off';
  if (op.index >= 0) return 'stepping';
  return op.message.startsWith('waiting for capacity') ? 'waiting-capacity' : 'pending';
}

/** A stored record with its phase; an old automatic restore is the failover restore (the only one there was). */
export function withPhase(op: StoredOperation): Operation {
  if (op.phase) return op as Operation;
  const failover = op.auto === true && op.kind === 'restore' ? { failover: true } : {};
  return { ...op, ...failover, phase: phaseOf(op) };
}

export interface NewOperation {
  id: string;
  kind: MoveKind;
  region: string;
  steps: number[];
  stepIntervalMs: number;
  reason: string;
  who: string;
  fromDial: number;
  /** The receivers lack headroom and a scale-up webhook was called: wait for capacity first. */
  waitForCapacity: boolean;
  auto?: boolean;
  failover?: boolean;
}

export function newOperation(n: NewOperation, now: number): Operation {
  return {
    id: n.id,
    kind: n.kind,
    region: n.region,
    steps: n.steps,
    stepIntervalMs: n.stepIntervalMs,
    fromDial: n.fromDial,
    index: -1,
    status: 'running',
    phase: n.waitForCapacity ? 'waiting-capacity' : 'pending',
    failures: 0,
    reason: n.reason,
    who: n.who,
    startedAt: now,
    stepAt: now,
    message: n.waitForCapacity ? 'waiting for capacity (scale-up webhook called)' : 'starting',
    ...(n.auto ? { auto: true } : {}),
    ...(n.failover ? { failover: true } : {}),
  };
}

/** The operation finished (or stopped from outside) with this message. */
export function ended(op: Operation, status: 'done' | 'aborted', message: string, now: number): Operation {
  return { ...op, status, phase: status, message, stepAt: now };
}

export function finishEntry(op: Operation, status: string, at: number): AuditLike {
  return {
    at,
    who: op.who,
    role: roleOf(op),
    action: `${op.kind}-${status}`,
    target: op.region,
    reason: op.reason,
    details: { operation: op.id, message: op.message },
  };
}

/** An operator stops a running operation: the dial stays where it is. */
export function abortOperation(
  op: Operation,
  who: { name: string; role: string },
  reason: string,
  dial: number | undefined,
  now: number,
): { operation: Operation; audit: AuditLike[] } {
  const operation = ended(op, 'aborted', `aborted by ${who.name}: ${reason}; dial stays at ${dial}`, now);
  const audit = [
    {
      at: now,
      who: who.name,
      role: who.role,
      action: 'abort',
      target: op.region,
      reason,
      details: { operation: op.id },
    },
  ];
  return { operation, audit };
}
