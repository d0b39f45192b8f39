import type { RolloutRecord } from '../../core/operations/rollout-record.js';
import type { AuditLike, FailedOverMark, Operation } from '../../core/operations/types.js';
import type { OutlierState } from '../../core/outlier-moves.js';

export type { OutlierState };

import type { SnapshotJson } from '../../feed/codec.js';
import { type Logger, repeatedFailure } from '../../log.js';

/** A running or finished operation, and a region control will restore by itself: defined with the machine in core. */
export type {
  FailedOverMark as FailedOver,
  Operation as OperationRecord,
} from '../../core/operations/types.js';

/** Everything control decides, versioned as one document. */
export interface ControlState {
  /** Equals snapshot.version: one change, one new snapshot. */
  version: number;
  snapshot: SnapshotJson;
  /** Why each region has its health (region id -> sentence). */
  healthWhy: [string, string][];
  operation: Operation | null;
  /** Regions control failed over and will restore by itself; an operator's dial or move on one removes it. */
  failedOver?: FailedOverMark[];
  /** Relative health: regions control evacuated as outliers, the global condition, its last decisions. */
  outlier?: OutlierState;
  /** The running or last staged rollout (src/control/rollout). */
  rollout?: RolloutRecord | null;
}

/** An audit entry as stored: core's, with the snapshot version the change produced. */
export interface AuditEntry extends AuditLike {
  version?: number;
}

export interface Leadership {
  readonly isLeader: boolean;
  /** Called with true when this candidate becomes leader, false when it stops being one. */
  onChange(listener: (leader: boolean) => void): void;
  /** The current leader's name, as far as the store knows. */
  leader(): Promise<string | null>;
  /** Steps down (releases the lease) so another candidate takes over at once. */
  close(): Promise<void>;
}

/**
 * Where control keeps its state. Two implementations (SQLite, etcd) pass one
 * conformance suite (test/control-store.test.ts).
 */
export interface StateStore {
  readonly kind: 'sqlite' | 'etcd';
  load(): Promise<ControlState | null>;
  /**
   * Writes `next` only when the stored version is still `expected` (0: nothing
   * stored yet), together with the snapshot at next.version and the audit
   * entries, atomically. False when another writer came first, or (etcd) when
   * this store campaigned and its candidate no longer holds the leader key.
   */
  commit(expected: number, next: ControlState, audit?: AuditEntry[]): Promise<boolean>;
  /** A past snapshot; snapshots are immutable once written. */
  snapshot(version: number): Promise<SnapshotJson | null>;
  /** Newest first. */
  audit(limit: number): Promise<AuditEntry[]>;
  /** Appends an audit entry that changes no state (a refused call worth keeping). */
  record(entry: AuditEntry): Promise<void>;
  /** Calls back with every new state another writer (or this one) committed. */
  watch(listener: (state: ControlState) => void): () => void;
  campaign(candidate: string, ttlMs: number): Leadership;
  close(): Promise<void>;
}

/** Leadership bookkeeping shared by both stores. */
export class LeaderFlag {
  isLeader = false;
  private readonly listeners = new Set<(leader: boolean) => void>();
  onChange(listener: (leader: boolean) => void) {
    this.listeners.add(listener);
  }
  set(leader: boolean) {
    if (leader === this.isLeader) return;
    this.isLeader = leader;
    for (const l of this.listeners) l(leader);
  }
}

export const HISTORY_KEPT = 1000;

/**
 * What a store's watch loop does with a failed read: log it (once per distinct
 * error, not every tick) and its recovery. The loop itself carries on: a store
 * that is locked, unreachable or holds a bad row must never end the process.
 */
export const watchFailures = (log: Logger | undefined, store: string) =>
  repeatedFailure(
    log,
    { failed: 'cannot read the state store; trying again', recovered: 'state store readable again' },
    { store },
  );
