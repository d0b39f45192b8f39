// The operations' state machine: its records, inputs and outputs. Pure data.
import type { GateLimits, GateReading } from '../evacuation-plan.js';
import type { Snapshot } from '../model.js';

/** Moves of one region's dial: down (evacuate) or up (restore). */
export type MoveKind = 'evacuate' | 'restore';
export type OperationKind = MoveKind;
export type OperationStatus = 'running' | 'done' | 'aborted';

/**
 * Where an operation is, stated rather than read back from its message:
 * - pending: started, its first step not applied yet;
 * - waiting-capacity: receivers lack headroom; the scale-up webhook was called and it waits for reports to show it;
 * - stepping: a step's dial is applied; after its interval the gates are judged;
 * - backing-off: a gate failed and the dial went back one step; after the interval the gates are judged again;
 * - done, aborted: finished (status says the same).
 */
export type OperationPhase = 'pending' | 'waiting-capacity' | 'stepping' | 'backing-off' | 'done' | 'aborted';

/** A running or finished evacuation/restore. Persisted with the state it changes. */
export interface Operation {
  id: string;
  kind: OperationKind;
  region: string;
  steps: number[];
  stepIntervalMs: number;
  /** Dial before the operation started: where an abort of the first step backs off to. */
  fromDial: number;
  /** Index of the step whose dial is applied now; -1 before the first. */
  index: number;
  status: OperationStatus;
  phase: OperationPhase;
  /** Failed gates so far (an operation aborts at gates.maxFailures). */
  failures: number;
  reason: string;
  who: string;
  startedAt: number;
  /** When the current step was applied, or the phase last changed (ms epoch). */
  stepAt: number;
  /** For people: what happened last. Nothing decides on it. */
  message: string;
  /** Started by control itself (automatic restore, outlier evacuation), not by an operator: an operator's move supersedes it. */
  auto?: boolean;
  /** Control's restore of a region it failed over: when it gives up on its gates, the region is remembered and tried again. */
  failover?: boolean;
}

/** An operation as stored by any version: records written before phases existed have none. */
export type StoredOperation = Omit<Operation, 'phase'> & { phase?: OperationPhase };

/** A region whose dial control set to 0 because it went DOWN: restored automatically once HEALTHY. */
export interface FailedOverMark {
  region: string;
  /** The dial it had before; the automatic restore goes back to it. */
  dial: number;
  /** When it went DOWN (ms epoch). */
  at: number;
  /** Set when an automatic restore aborted on failed gates: the next try waits until then (ms epoch). */
  retryAt?: number;
}

/** An audit entry as core writes it; control adds the snapshot version and its instance. */
export interface AuditLike {
  at: number;
  who: string;
  role: string;
  action: string;
  target?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

export interface DialChange {
  region: string;
  dial: number;
}

export interface OperationSettings {
  gates: GateLimits & {
    /** Headroom needed before a move, as a share of the moved load on top of it. */
    margin: number;
    /** Failed gates before an operation aborts. */
    maxFailures: number;
  };
  /** An automatic restore after failover that gave up is tried again this long after (ms). */
  autoRestoreRetryAfterMs: number;
  /** How long a move waits for the capacity a scale-up webhook asked for (ms); 0 without a webhook. */
  scaleUpWaitMs: number;
  /** Until then this instance has not seen every region's reports (a takeover): gates are not judged before it (ms epoch). */
  warmUntil: number;
}

/** What one step of any machine returns; control commits it as one change, or waits when unchanged. */
export interface MachineStep<R> {
  /** The record after the step: the same object when unchanged. */
  record: R;
  /** False: nothing to commit (waiting for an interval, the warm-up, capacity or an action). */
  changed: boolean;
  dials: DialChange[];
  audit: AuditLike[];
  /** When to step again at the latest (ms epoch); Infinity once finished. */
  wakeAt: number;
}

/**
 * The one shape of every machine (operations, rollouts):
 * (record, snapshot, readings, now, settings) -> (record, dials, audit entries, ...).
 */
export type MachineOf<R, In, S, Out extends MachineStep<R> = MachineStep<R>> = (
  record: R,
  snapshot: Snapshot,
  readings: In,
  now: number,
  settings: S,
) => Out;

/** What one step of an operation returns. */
export interface OperationStep extends MachineStep<Operation> {
  /** Control should remember this region and restore it by itself later. */
  failedOver?: FailedOverMark;
  /** Gates were judged in this step: for the step counter metric. */
  gate?: 'passed' | 'failed';
  /** The failed gates when gate is 'failed' (why it backed off or aborted). */
  gateFailures?: string[];
}

export type Readings = ReadonlyMap<string, GateReading>;

/** One operation kind's machine: (operation, snapshot, readings, now) -> (operation, dials, audit entries). */
export type Machine = MachineOf<Operation, Readings, OperationSettings, OperationStep>;
