import type { MeridianConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import { isMeridianError } from '../errors.js';
import type { SnapshotSource } from '../feed/source.js';
import type { Logger } from '../log.js';
import { type Backoff, backoffDelay, SYNC_BACKOFF } from './backoff.js';
import { desiredRecordSets } from './desired.js';
import { type Diff, diffRecordSets, formatDiff } from './diff.js';
import { driftOf, type Held, heldAfter } from './drift.js';
import type { DnsProvider, Steering } from './model.js';
import { DEFAULT_OWNER_ID, type LeftAlone, markerName, markerRecordSet, ownershipOf } from './ownership.js';

export interface SyncResult {
  provider: string;
  zone: string;
  steering: Steering;
  snapshotVersion: number;
  dryRun: boolean;
  applied: boolean;
  changes: Diff['changes'];
  /** Human-readable diff lines ("+", "~", "-"). */
  diff: string[];
  unchanged: number;
  warnings: string[];
  /** The owner id in the markers of the names this sync may change. */
  owner: string;
  /** Names Meridian wants but does not own: nothing at them was read as its own or changed. */
  leftAlone: LeftAlone[];
  /** Keys (name|type|qualifier) of record sets changed behind Meridian's back since the last sync of this process. */
  drift: string[];
}

export interface SyncOptions {
  provider: DnsProvider;
  config: MeridianConfig;
  snapshot: Snapshot;
  steering?: Steering;
  dryRun?: boolean;
  /** Marker owner id (`--owner-id`); default "default", as external-dns's. */
  owner?: string;
  /** `--adopt`: also take names that hold records and no marker, writing the marker. */
  adopt?: boolean;
}

/**
 * Computes the record sets for the snapshot, reads what the provider has at
 * the names Meridian manages, and applies the difference in one batch.
 * Everything that can be refused (an unsupported policy, a missing zone, bad
 * credentials) is refused before anything is written.
 */
export async function syncOnce(options: SyncOptions): Promise<SyncResult> {
  return (await syncAndHold(options)).result;
}

/**
 * syncOnce, comparing with what the last sync left (`held`) to tell drift,
 * and returning what this one leaves. Only names whose marker carries this
 * owner, or free names (whose marker goes in the same batch), are changed.
 */
export async function syncAndHold(
  options: SyncOptions & { held?: Held },
): Promise<{ result: SyncResult; held: Held }> {
  const { provider, config, snapshot } = options;
  const steering = options.steering ?? provider.capabilities.steering[0];
  const owner = options.owner ?? DEFAULT_OWNER_ID;
  const zone = config.zone.name;
  const desired = desiredRecordSets(config, snapshot, steering, provider.name, provider.capabilities);
  const listed = await provider.list(zone, [...desired.names, ...desired.names.map(markerName)]);
  const ownership = ownershipOf(desired.names, listed, owner, options.adopt);
  const mine = new Set([...ownership.managed, ...ownership.managed.map(markerName)]);
  const current = listed.filter((r) => mine.has(r.name));
  const wanted = [
    ...desired.recordSets.filter((r) => mine.has(r.name)),
    ...ownership.managed.map((name) => markerRecordSet(name, owner)),
  ];
  const diff = diffRecordSets(current, wanted);
  const drift = driftOf(options.held, current, wanted);
  const dryRun = options.dryRun ?? false;
  if (!dryRun) await provider.apply(zone, diff.changes);
  const result: SyncResult = {
    provider: provider.name,
    zone,
    steering,
    snapshotVersion: snapshot.version,
    dryRun,
    applied: !dryRun && diff.changes.length > 0,
    changes: diff.changes,
    diff: formatDiff(diff),
    unchanged: diff.unchanged,
    warnings: desired.warnings,
    owner,
    leftAlone: ownership.leftAlone,
    drift,
  };
  return { result, held: heldAfter(mine, dryRun ? current : wanted) };
}

export interface WatchOptions extends Omit<SyncOptions, 'config' | 'snapshot'> {
  source: SnapshotSource;
  log?: Logger;
  onResult: (result: SyncResult) => void;
  onError: (error: unknown) => void;
  /** Before each retry of a failed sync. */
  onRetry?: (retry: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Retries of a retryable failure, even without a new snapshot. */
  backoff?: Backoff;
  /** Sync again this often (ms) without a snapshot change, to find and repair drift; 0: only on changes. */
  intervalMs?: number;
  /** A reason not to push the current snapshot yet (e.g. control never reached); the next change tries again. */
  hold?: () => string | null;
  onHold?: (reason: string) => void;
}

/**
 * Syncs now, after every snapshot change and every `intervalMs`. Changes that
 * arrive while a sync runs are coalesced: the next sync uses the newest
 * snapshot. A retryable failure is retried with backoff; any other waits for
 * the next change or interval.
 */
export function watchSync(options: WatchOptions): { done: Promise<void>; close(): void } {
  const { source } = options;
  const backoff = options.backoff ?? SYNC_BACKOFF;
  let running = false;
  let pending = false;
  let closed = false;
  let failures = 0;
  let held: Held | undefined;
  let timer: NodeJS.Timeout | undefined;
  const later = (ms: number) => {
    clearTimeout(timer);
    if (closed || !(ms > 0)) return;
    timer = setTimeout(run, ms);
    timer.unref();
  };
  const run = async () => {
    if (closed) return;
    if (running) {
      pending = true;
      return;
    }
    clearTimeout(timer);
    const holdReason = options.hold?.();
    if (holdReason) {
      options.onHold?.(holdReason);
      later(options.intervalMs ?? 0);
      return;
    }
    running = true;
    try {
      const synced = await syncAndHold({
        ...options,
        config: source.config(),
        snapshot: source.current(),
        held,
      });
      held = synced.held;
      failures = 0;
      options.onResult(synced.result);
      later(options.intervalMs ?? 0);
    } catch (error) {
      options.onError(error);
      if (!isMeridianError(error) || error.spec.retryable) {
        const delayMs = backoffDelay(failures++, backoff);
        options.log?.warn(
          { attempt: failures, delayMs, err: (error as Error).message },
          'sync failed; retrying',
        );
        options.onRetry?.({ attempt: failures, delayMs, error });
        // A zero delay (full jitter can draw it) still waits a turn, not a busy loop.
        later(Math.max(delayMs, 1));
      } else later(options.intervalMs ?? 0);
    } finally {
      running = false;
      if (pending && !closed) {
        pending = false;
        void run();
      }
    }
  };
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const unsubscribe = source.onChange(() => void run());
  void run();
  return {
    done,
    close() {
      closed = true;
      clearTimeout(timer);
      unsubscribe();
      resolveDone();
    },
  };
}
