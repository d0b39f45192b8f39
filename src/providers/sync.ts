import type { MeridianConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import { isMeridianError } from '../errors.js';
import type { SnapshotSource } from '../feed/source.js';
import type { Logger } from '../log.js';
import { desiredRecordSets } from './desired.js';
import { type Diff, diffRecordSets, formatDiff } from './diff.js';
import type { DnsProvider, Steering } from './model.js';

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
}

export interface SyncOptions {
  provider: DnsProvider;
  config: MeridianConfig;
  snapshot: Snapshot;
  steering?: Steering;
  dryRun?: boolean;
}

/**
 * Computes the record sets for the snapshot, reads what the provider has at
 * the names Meridian manages, and applies the difference in one batch.
 * Everything that can be refused (an unsupported policy, a missing zone, bad
 * credentials) is refused before anything is written.
 */
export async function syncOnce(options: SyncOptions): Promise<SyncResult> {
  const { provider, config, snapshot } = options;
  const steering = options.steering ?? provider.capabilities.steering[0];
  const zone = config.zone.name;
  const desired = desiredRecordSets(config, snapshot, steering, provider.name, provider.capabilities);
  const current = await provider.list(zone, desired.names);
  const diff = diffRecordSets(current, desired.recordSets);
  const dryRun = options.dryRun ?? false;
  if (!dryRun) await provider.apply(zone, diff.changes);
  return {
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
  };
}

export interface WatchOptions extends Omit<SyncOptions, 'config' | 'snapshot'> {
  source: SnapshotSource;
  log?: Logger;
  onResult: (result: SyncResult) => void;
  onError: (error: unknown) => void;
  /** Retry a failed sync after this long (ms), even without a new snapshot. */
  retryMs?: number;
  /** A reason not to push the current snapshot yet (e.g. control never reached); the next change tries again. */
  hold?: () => string | null;
  onHold?: (reason: string) => void;
}

/**
 * Syncs now and after every snapshot change. Changes that arrive while a sync
 * runs are coalesced: the next sync uses the newest snapshot.
 */
export function watchSync(options: WatchOptions): { done: Promise<void>; close(): void } {
  const { source } = options;
  let running = false;
  let pending = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const run = async () => {
    if (closed) return;
    if (running) {
      pending = true;
      return;
    }
    const held = options.hold?.();
    if (held) {
      options.onHold?.(held);
      return;
    }
    running = true;
    clearTimeout(retry);
    try {
      options.onResult(await syncOnce({ ...options, config: source.config(), snapshot: source.current() }));
    } catch (e) {
      options.onError(e);
      const retryable = !isMeridianError(e) || e.spec.retryable;
      if (retryable && !closed) {
        retry = setTimeout(run, options.retryMs ?? 5000);
        retry.unref();
      }
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
      clearTimeout(retry);
      unsubscribe();
      resolveDone();
    },
  };
}
