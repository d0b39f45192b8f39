import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { registerSyncMetrics } from '../feed/sync.js';
import { type MetricsJson, primaryProcessMetrics, registerConventions } from '../metrics-conventions.js';
import { LATENCY_BOUNDS, type StatsSnapshot } from './stats.js';

/**
 * Prometheus metrics of one edge (all its workers), rendered from a stats
 * snapshot at scrape time: the hot path only bumps plain counters.
 */
export function edgeRegistry(
  region: string,
  latest: () => Promise<StatsSnapshot>,
  /** In a cluster primary: each worker's process metrics (labelled with its worker id). */
  workerProcessMetrics?: () => Promise<MetricsJson[]>,
): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ edge: region });
  let snap: StatsSnapshot | null = null;
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge, s: StatsSnapshot) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        if (snap) fill(this, snap);
      },
    });
  // Cumulative values: a counter is reset and filled with the total at each scrape.
  const counterLike = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (
      c: { set: (labels: Record<string, string> | number, v?: number) => void },
      s: StatsSnapshot,
    ) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        const set = (labels: Record<string, string> | number, v?: number) => {
          if (typeof labels === 'number') this.inc(labels);
          else if (v! > 0) this.inc(labels, v!);
        };
        if (snap) fill({ set }, snap);
      },
    });
  counterLike(
    'meridian_edge_requests_total',
    'Requests by service, serving region, status class and outcome',
    ['service', 'region', 'status_class', 'outcome'],
    (g, s) => {
      for (const [key, v] of Object.entries(s.requests)) {
        const [service, reg, status_class, outcome] = key.split('|');
        g.set({ service, region: reg, status_class, outcome }, v);
      }
    },
  );
  counterLike('meridian_edge_shed_total', 'Requests shed by the concurrency limit', ['service'], (g, s) => {
    for (const [service, v] of Object.entries(s.shed)) g.set({ service }, v);
  });
  counterLike(
    'meridian_edge_retries_total',
    'Cross-region retries taken and denied by the budget',
    ['result'],
    (g, s) => {
      g.set({ result: 'taken' }, s.retries);
      g.set({ result: 'denied' }, s.retriesDenied);
    },
  );
  counterLike(
    'meridian_edge_connections_refused_total',
    'Client connections closed on accept because edge.maxConnections were open',
    [],
    (g, s) => g.set(s.connectionsRefused),
  );
  counterLike('meridian_edge_http2_sessions_total', 'Inbound HTTP/2 connections (h2 and h2c)', [], (g, s) =>
    g.set(s.http2?.sessions ?? 0),
  );
  counterLike('meridian_edge_http2_streams_total', 'Inbound HTTP/2 streams served as requests', [], (g, s) =>
    g.set(s.http2?.streams ?? 0),
  );
  counterLike(
    'meridian_edge_http2_refused_total',
    'Inbound HTTP/2 connections closed for a limit or an attack, by reason',
    ['reason'],
    (g, s) => {
      for (const [reason, v] of Object.entries(s.http2?.refused ?? {})) g.set({ reason }, v);
    },
  );
  gauge('meridian_edge_retry_budget_left', 'Retries the budget allows now', [], (g, s) =>
    g.set(s.retryBudgetLeft),
  );
  gauge(
    'meridian_edge_origin_healthy',
    '1 when the origin passes active checks and is not ejected',
    ['service', 'origin'],
    (g, s) => {
      for (const o of s.origins)
        g.set({ service: o.service, origin: o.url }, o.healthy && !o.ejected ? 1 : 0);
    },
  );
  gauge(
    'meridian_edge_origin_ejected',
    '1 while passive health has ejected the origin',
    ['service', 'origin'],
    (g, s) => {
      for (const o of s.origins) g.set({ service: o.service, origin: o.url }, o.ejected ? 1 : 0);
    },
  );
  gauge('meridian_edge_peer_reachable', '1 when the peer edge answered its last probe', ['peer'], (g, s) => {
    for (const [peer, ok] of Object.entries(s.peers)) g.set({ peer }, ok ? 1 : 0);
  });
  gauge('meridian_edge_concurrency_limit', 'Adaptive concurrency limit per service', ['service'], (g, s) => {
    for (const [service, l] of Object.entries(s.limits)) g.set({ service }, l.limit);
  });
  gauge('meridian_edge_in_flight', 'Requests in flight', [], (g, s) => g.set(s.inFlight));
  gauge('meridian_edge_tunnels_open', 'WebSocket (Upgrade) tunnels open', ['service'], (g, s) => {
    for (const [service, v] of Object.entries(s.tunnels?.open ?? {})) g.set({ service }, v);
  });
  counterLike(
    'meridian_edge_tunnels_opened_total',
    'WebSocket (Upgrade) tunnels opened, by the region whose origins serve them',
    ['service', 'region'],
    (g, s) => {
      for (const [key, v] of Object.entries(s.tunnels?.opened ?? {})) {
        const [service, region] = key.split('|');
        g.set({ service, region }, v);
      }
    },
  );
  counterLike(
    'meridian_edge_tunnels_closed_total',
    'WebSocket (Upgrade) tunnels closed, by reason (client, upstream, evacuated, drain, error)',
    ['service', 'reason'],
    (g, s) => {
      for (const [key, v] of Object.entries(s.tunnels?.closed ?? {})) {
        const [service, reason] = key.split('|');
        g.set({ service, reason }, v);
      }
    },
  );
  registry.registerMetric(
    bucketHistogram(
      'meridian_edge_request_duration_seconds',
      'Time from the request read to the response sent, bridged attempts included',
      () => (snap ? { counts: snap.latency, sumSeconds: snap.latencySumMs / 1000 } : null),
    ) as never,
  );
  registerConventions(registry, 'edge', { processMetrics: !workerProcessMetrics });
  const primary = workerProcessMetrics ? primaryProcessMetrics() : null;
  const original = registry.metrics.bind(registry);
  let syncMetrics = false;
  registry.metrics = async () => {
    snap = await latest();
    // Only an edge following control has a sync state: a gauge without labels would read 0 otherwise.
    if (snap.sync && !syncMetrics) {
      registerSyncMetrics(registry, () => snap?.sync);
      syncMetrics = true;
    }
    if (!primary || !workerProcessMetrics) return original();
    // One series per process: the primary's (worker="primary") beside each worker's.
    const all = [
      await registry.getMetricsAsJSON(),
      await primary.getMetricsAsJSON(),
      ...(await workerProcessMetrics()),
    ];
    const merged = AggregatorRegistry.aggregate(all);
    merged.setDefaultLabels({ edge: region });
    return merged.metrics();
  };
  return registry;
}

/** LATENCY_BOUNDS in seconds, as the `le` label reads them. */
const BOUNDS_SECONDS = LATENCY_BOUNDS.map((ms) => Number((ms / 1000).toPrecision(12)));

/**
 * A Prometheus histogram read from per-bucket counts (LATENCY_BOUNDS plus the
 * open bucket) kept by the hot path: cumulative buckets, +Inf, _sum, _count.
 */
function bucketHistogram(
  name: string,
  help: string,
  read: () => { counts: readonly number[]; sumSeconds: number } | null,
) {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const h = read();
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      if (h) {
        let cumulative = 0;
        BOUNDS_SECONDS.forEach((le, i) => {
          cumulative += h.counts[i] ?? 0;
          values.push({ labels: { le }, value: cumulative, metricName: `${name}_bucket` });
        });
        cumulative += h.counts[BOUNDS_SECONDS.length] ?? 0;
        values.push({ labels: { le: '+Inf' }, value: cumulative, metricName: `${name}_bucket` });
        values.push({ labels: {}, value: h.sumSeconds, metricName: `${name}_sum` });
        values.push({ labels: {}, value: cumulative, metricName: `${name}_count` });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
    reset() {},
  };
}
