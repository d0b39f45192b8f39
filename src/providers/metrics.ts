import { Counter, Gauge, Registry } from 'prom-client';
import { ERROR_METRIC, isMeridianError } from '../errors.js';
import { registerConventions } from '../metrics-conventions.js';
import type { SyncResult } from './sync.js';

/** How `dns sync --watch` ended each sync, for the syncs counter. */
export type SyncOutcome = 'applied' | 'in_sync' | 'pending' | 'failed';

const KIND_OF_LINE: Record<string, 'create' | 'update' | 'delete'> = {
  '+': 'create',
  '~': 'update',
  '-': 'delete',
};

export function syncMetrics(provider: string) {
  const registry = new Registry();
  const labels = { labelNames: ['provider'], registers: [registry] };
  const m = {
    syncs: new Counter({
      name: 'meridian_dns_sync_syncs_total',
      help: 'Syncs by result: applied (changes made), in_sync, pending (preview: changes not applied), failed',
      ...labels,
      labelNames: ['provider', 'result'],
    }),
    changes: new Counter({
      name: 'meridian_dns_sync_changes_applied_total',
      help: 'Record set changes applied to the provider, by kind (create, update, delete)',
      ...labels,
      labelNames: ['provider', 'kind'],
    }),
    drift: new Counter({
      name: 'meridian_dns_sync_drift_total',
      help: "Record sets found changed behind Meridian's back at names it owns (repaired when applying)",
      ...labels,
    }),
    retries: new Counter({
      name: 'meridian_dns_sync_retries_total',
      help: 'Failed syncs retried after a backoff',
      ...labels,
    }),
    lastSuccess: new Gauge({
      name: 'meridian_dns_sync_last_success_timestamp_seconds',
      help: 'Unix time of the last sync that succeeded',
      ...labels,
    }),
    leftAlone: new Gauge({
      name: 'meridian_dns_sync_names_left_alone',
      help: 'Names Meridian wants but does not own (no marker of its owner id), in the last sync',
      ...labels,
    }),
    errors: new Counter({
      name: ERROR_METRIC,
      help: 'Errors by code',
      labelNames: ['part', 'code'],
      registers: [registry],
    }),
  };
  registerConventions(registry, 'dns-sync');
  // Every series from the start at 0, so that rate() and absent() work before the first failure.
  for (const result of ['applied', 'in_sync', 'pending', 'failed']) m.syncs.inc({ provider, result }, 0);
  for (const kind of Object.values(KIND_OF_LINE)) m.changes.inc({ provider, kind }, 0);
  m.drift.inc({ provider }, 0);
  m.retries.inc({ provider }, 0);
  return {
    registry,
    result(r: SyncResult, now = Date.now()) {
      const outcome: SyncOutcome = r.changes.length === 0 ? 'in_sync' : r.dryRun ? 'pending' : 'applied';
      m.syncs.inc({ provider, result: outcome });
      if (r.applied)
        for (const line of r.diff) m.changes.inc({ provider, kind: KIND_OF_LINE[line[0]] ?? 'update' });
      m.drift.inc({ provider }, r.drift.length);
      m.leftAlone.set({ provider }, r.leftAlone.length);
      m.lastSuccess.set({ provider }, now / 1000);
    },
    error(e: unknown) {
      m.syncs.inc({ provider, result: 'failed' });
      m.errors.inc({ part: 'dns-sync', code: isMeridianError(e) ? e.code : 'INTERNAL' });
    },
    retry() {
      m.retries.inc({ provider });
    },
  };
}

export type SyncMetrics = ReturnType<typeof syncMetrics>;
