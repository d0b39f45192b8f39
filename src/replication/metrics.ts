// Prometheus metrics of the replicated cache, one set per Registry (each
// server has its own). Label `source` is where a write was made,
// `destination` where it is applied.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ReplicationMetrics {
  published: Counter<'source'>;
  publishFailures: Counter<'source'>;
  applied: Counter<'source' | 'destination' | 'op'>;
  duplicates: Counter<'source' | 'destination'>;
  conflicts: Counter<'source' | 'destination' | 'keyspace'>;
  clockAhead: Counter<'source' | 'destination'>;
  clockClamped: Counter<'region'>;
  malformed: Counter<'source' | 'destination'>;
  lag: Histogram<'source' | 'destination'>;
  queueDepth: Gauge<'source' | 'destination'>;
  probeLag: Gauge<'source' | 'destination'>;
  /** Relays add a function that reports their queue depths when scraped. */
  depthReporters: Set<() => Promise<void>>;
}

const byRegistry = new WeakMap<Registry, ReplicationMetrics>();

export function replicationMetrics(registry: Registry): ReplicationMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const registers = [registry];
  const depthReporters = new Set<() => Promise<void>>();
  const m: ReplicationMetrics = {
    published: new Counter({
      name: 'meridian_replication_events_published_total',
      help: 'Replication events accepted by the transport, by source region',
      labelNames: ['source'],
      registers,
    }),
    publishFailures: new Counter({
      name: 'meridian_replication_publish_failures_total',
      help: 'Events of a publish the transport did not accept; they stay in the outbox and are sent again',
      labelNames: ['source'],
      registers,
    }),
    applied: new Counter({
      name: 'meridian_replication_events_applied_total',
      help: 'Replication events applied to the destination Redis',
      labelNames: ['source', 'destination', 'op'],
      registers,
    }),
    duplicates: new Counter({
      name: 'meridian_replication_duplicates_total',
      help: 'Events that were already applied (redelivery), left as they were',
      labelNames: ['source', 'destination'],
      registers,
    }),
    conflicts: new Counter({
      name: 'meridian_replication_conflicts_total',
      help: 'Events that lost to a newer write of the same key (last writer wins by hybrid logical clock), by keyspace prefix (or default)',
      labelNames: ['source', 'destination', 'keyspace'],
      registers,
    }),
    clockAhead: new Counter({
      name: 'meridian_replication_clock_ahead_total',
      help: "Events held at the destination because their stamp ran more than replication.maxClockOffset ahead of the destination's clock",
      labelNames: ['source', 'destination'],
      registers,
    }),
    clockClamped: new Counter({
      name: 'meridian_replication_clock_clamped_total',
      help: "Stamps made from a clamped clock: the region's clock measured more than replication.maxClockOffset ahead of its peers'",
      labelNames: ['region'],
      registers,
    }),
    malformed: new Counter({
      name: 'meridian_replication_malformed_rejected_total',
      help: 'Replication events or messages rejected as malformed, not applied',
      labelNames: ['source', 'destination'],
      registers,
    }),
    lag: new Histogram({
      name: 'meridian_replication_lag_seconds',
      help: 'Time from the write at the source to its application at the destination',
      labelNames: ['source', 'destination'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'meridian_replication_queue_depth',
      help: 'Transport messages of the source not yet taken by the destination',
      labelNames: ['source', 'destination'],
      registers,
      async collect() {
        await Promise.all([...depthReporters].map((report) => report().catch(() => undefined)));
      },
    }),
    probeLag: new Gauge({
      name: 'meridian_replication_probe_lag_seconds',
      help: 'Lag seen by the canary probe: how old the newest canary of the source visible at the destination is',
      labelNames: ['source', 'destination'],
      registers,
    }),
    depthReporters,
  };
  byRegistry.set(registry, m);
  return m;
}
