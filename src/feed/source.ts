import type { MeridianConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import type { SnapshotSync } from './sync.js';

/**
 * Where a DNS server or an edge gets the snapshot it serves. Implementations:
 * the config file (reloaded on change) and the control plane's stream (with
 * the last good snapshot kept on disk, fail static).
 */
export interface SnapshotSource {
  /** The snapshot to serve now; never undefined once start() resolved. */
  current(): Snapshot;
  /** The config the snapshot was made from (zone, services, origins). */
  config(): MeridianConfig;
  /** Called after every change, with the new snapshot. Returns an unsubscribe function. */
  onChange(listener: (snapshot: Snapshot, config: MeridianConfig) => void): () => void;
  /** How far the snapshot served is in step with control; absent for a source without control. */
  sync?(): SnapshotSync;
  /** Serves `config` (validated by the caller, e.g. on SIGHUP) from now on and tells every listener. */
  reload?(config: MeridianConfig): void;
  start(): Promise<void>;
  close(): Promise<void>;
}
