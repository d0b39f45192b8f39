import { Counter, Gauge, Registry } from 'prom-client';
import type { Health, Snapshot } from '../core/model.js';
import type { OutlierState } from '../core/outlier-moves.js';
import { ERROR_METRIC } from '../errors.js';
import { registerConventions } from '../metrics-conventions.js';

// A Record, so that a new Health state fails to compile here until it has its series.
const HEALTH_STATES: Record<Health, true> = {
  UNKNOWN: true,
  HEALTHY: true,
  DEGRADED: true,
  DOWN: true,
  PARTITIONED: true,
};
const HEALTH = Object.keys(HEALTH_STATES) as Health[];

export function controlMetrics() {
  const registry = new Registry();
  const m = {
    registry,
    version: new Gauge({
      name: 'meridian_control_snapshot_version',
      help: 'Current snapshot version',
      registers: [registry],
    }),
    health: new Gauge({
      name: 'meridian_control_region_health',
      help: '1 for the state each region is in',
      labelNames: ['region', 'state'],
      registers: [registry],
    }),
    dial: new Gauge({
      name: 'meridian_control_dial_ratio',
      help: 'Traffic dial of the region, 0-1 (the share of its home traffic it keeps)',
      labelNames: ['region'],
      registers: [registry],
    }),
    load: new Gauge({
      name: 'meridian_control_region_load_requests_per_second',
      help: 'Load the region edge last reported, requests per second',
      labelNames: ['region'],
      registers: [registry],
    }),
    demand: new Gauge({
      name: 'meridian_control_region_demand_requests_per_second',
      help: 'Demand from users whose home is the region, requests per second',
      labelNames: ['region'],
      registers: [registry],
    }),
    reports: new Counter({
      name: 'meridian_control_reports_total',
      help: 'Edge reports accepted',
      labelNames: ['region'],
      registers: [registry],
    }),
    witness: new Gauge({
      name: 'meridian_control_witness_reachable',
      help: '1 when the witness probe reached the region edge',
      labelNames: ['region'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'meridian_control_leader',
      help: '1 when this instance leads',
      registers: [registry],
    }),
    streamClients: new Gauge({
      name: 'meridian_control_stream_clients',
      help: 'Open snapshot streams',
      registers: [registry],
    }),
    streamDropped: new Counter({
      name: 'meridian_control_stream_dropped_total',
      help: 'Snapshot stream followers dropped for not reading (reason: buffer or stalled)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    streamCoalesced: new Counter({
      name: 'meridian_control_stream_coalesced_total',
      help: 'Snapshots a backed-up follower skipped because a newer one replaced them',
      registers: [registry],
    }),
    requests: new Counter({
      name: 'meridian_control_http_requests_total',
      help: 'API requests',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    operationSteps: new Counter({
      name: 'meridian_control_operation_steps_total',
      help: 'Operation steps by result',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
    outlierEvacuated: new Gauge({
      name: 'meridian_control_outlier_evacuated',
      help: '1 while control holds the region evacuated as an outlier (relative health)',
      labelNames: ['region'],
      registers: [registry],
    }),
    outlierGlobal: new Gauge({
      name: 'meridian_control_outlier_global',
      help: '1 while every region is bad alike and control holds the dials',
      registers: [registry],
    }),
    errors: new Counter({
      name: ERROR_METRIC,
      help: 'Errors by code',
      labelNames: ['part', 'code'],
      registers: [registry],
    }),
  };
  registerConventions(registry, 'control');
  return {
    ...m,
    observeSnapshot(s: Snapshot) {
      m.version.set(s.version);
      for (const r of s.regions.values()) {
        for (const h of HEALTH) m.health.set({ region: r.id, state: h }, r.health === h ? 1 : 0);
        m.dial.set({ region: r.id }, r.dial / 100);
        m.load.set({ region: r.id }, r.load);
        m.demand.set({ region: r.id }, r.demand);
      }
    },
    observeOutlier(regions: readonly string[], o: OutlierState | undefined) {
      const evacuated = new Set(o?.evacuated.map((e) => e.region));
      for (const id of regions) m.outlierEvacuated.set({ region: id }, evacuated.has(id) ? 1 : 0);
      m.outlierGlobal.set(o?.global ? 1 : 0);
    },
  };
}

export type ControlMetrics = ReturnType<typeof controlMetrics>;
