import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * How far a data plane is in step with control:
 * - synced: following control's stream and serving its latest snapshot;
 * - static: serving a snapshot control made (from disk, or the stream before
 *   it was lost) while control is unreachable or offers only older ones;
 * - unsynced: serving the config file's dials, no snapshot from control yet.
 */
export type SyncStatus = 'synced' | 'static' | 'unsynced';

export interface SnapshotSync {
  status: SyncStatus;
  /** Where the snapshot being served came from. */
  from: 'control' | 'disk' | 'config';
  connected: boolean;
  epoch: number;
  version: number;
  /** Snapshots refused because they were older than the one held. */
  refused: number;
  /** File name (in the state directory) a corrupt snapshot file was moved to at start. */
  corrupt?: string;
}

const RANK: Record<SyncStatus, number> = { synced: 0, static: 1, unsynced: 2 };

/** Several workers' states as one: the worst status, refusals summed. */
export function mergeSync(
  a: SnapshotSync | undefined,
  b: SnapshotSync | undefined,
): SnapshotSync | undefined {
  if (!a || !b) return a ?? b;
  const worst = RANK[b.status] > RANK[a.status] ? b : a;
  return { ...worst, refused: a.refused + b.refused, corrupt: a.corrupt ?? b.corrupt };
}

/** meridian_snapshot_* series, read from `sync()` at scrape time. Register only where a sync state exists. */
export function registerSyncMetrics(registry: Registry, sync: () => SnapshotSync | undefined): void {
  const gauge = (name: string, help: string, value: (s: SnapshotSync) => number, aggregator: 'min' | 'max') =>
    new Gauge({
      name,
      help,
      registers: [registry],
      aggregator,
      collect() {
        this.reset();
        const s = sync();
        if (s) this.set(value(s));
      },
    });
  gauge(
    'meridian_snapshot_synced',
    '1 while following control and serving its latest snapshot',
    (s) => (s.status === 'synced' ? 1 : 0),
    'min',
  );
  gauge(
    'meridian_snapshot_unsynced',
    "1 while serving the config file's dials because no snapshot from control is held",
    (s) => (s.status === 'unsynced' ? 1 : 0),
    'max',
  );
  gauge('meridian_snapshot_epoch', 'Epoch of the snapshot served', (s) => s.epoch, 'min');
  gauge('meridian_snapshot_version', 'Version of the snapshot served', (s) => s.version, 'min');
  new Counter({
    name: 'meridian_snapshot_refused_total',
    help: 'Snapshots from control refused because they were older than the one held',
    registers: [registry],
    collect() {
      this.reset();
      const s = sync();
      if (s && s.refused > 0) this.inc(s.refused);
    },
  });
}
