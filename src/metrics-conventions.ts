// What every daemon's /metrics carries besides its own series:
// meridian_build_info and prom-client's default process_* and nodejs_* metrics.

import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export type Daemon = 'dns' | 'edge' | 'control' | 'replication' | 'dns-sync';
/** A registry's metrics as JSON, as cluster workers send them to their primary. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

let version: string | undefined;

/** The package version, read once; package.json sits one folder up from both src/ and dist/. */
export function packageVersion(): string {
  if (version === undefined) {
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    version = String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown');
  }
  return version;
}

let processRegistry: Registry | undefined;

/**
 * The default metrics of this process, collected once per process (each
 * collectDefaultMetrics call starts its own GC observer and event-loop
 * monitor) and shared by every registry that exports them. A cluster worker
 * labels its series `worker="<cluster worker id>"` so that a primary summing
 * its workers' metrics keeps one series per process.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    const labels = cluster.isWorker && cluster.worker ? { worker: String(cluster.worker.id) } : undefined;
    collectDefaultMetrics({ register: processRegistry, ...(labels ? { labels } : {}) });
    dropTotalGauges(processRegistry);
    heapAfterMajorGc(processRegistry, labels);
  }
  return processRegistry;
}

export const HEAP_AFTER_GC = 'meridian_nodejs_heap_used_after_major_gc_bytes';

/**
 * nodejs_heap_size_used_bytes counts garbage not yet collected: a quiet process's full GCs can be
 * minutes apart, so its heap climbs between them like a leak would (a soak's relay rose 19 -> 30 MB
 * and fell back at the next full GC). What a major GC leaves is what the process holds.
 */
function heapAfterMajorGc(registry: Registry, labels: { worker: string } | undefined): void {
  const gauge = new Gauge({
    name: HEAP_AFTER_GC,
    help: 'V8 heap in use just after the last major (mark-sweep-compact) GC, before the first one: at start',
    labelNames: labels ? ['worker'] : [],
    registers: [registry],
  });
  const set = () => gauge.set(labels ?? {}, getHeapStatistics().used_heap_size);
  set();
  new PerformanceObserver((list) => {
    const major = list
      .getEntries()
      .some(
        (e) =>
          (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
          constants.NODE_PERFORMANCE_GC_MAJOR,
      );
    if (major) set();
  }).observe({ entryTypes: ['gc'] });
}

/**
 * prom-client exports nodejs_active_{handles,requests,resources}_total as
 * gauges, and `_total` is for counters only; the same numbers by type stay
 * (nodejs_active_handles{type=...}), so the sums are not lost.
 */
function dropTotalGauges(registry: Registry): void {
  for (const m of registry.getMetricsAsArray() as unknown as { name: string; type?: string }[]) {
    if (m.name.endsWith('_total') && m.type === 'gauge') registry.removeSingleMetric(m.name);
  }
}

/** The label a cluster primary gives its own process metrics beside its workers'. */
export const PRIMARY_WORKER = 'primary';

/**
 * A registry of the primary's own process metrics labelled worker="primary",
 * to aggregate with its workers' (whose process metrics carry their ids).
 */
export function primaryProcessMetrics(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, labels: { worker: PRIMARY_WORKER } });
  dropTotalGauges(registry);
  heapAfterMajorGc(registry, { worker: PRIMARY_WORKER });
  return registry;
}

/** Adds meridian_build_info and (unless `processMetrics: false`) the process metrics to a daemon's registry. */
export function registerConventions(
  registry: Registry,
  daemon: Daemon,
  options: { processMetrics?: boolean } = {},
): void {
  new Gauge({
    name: 'meridian_build_info',
    help: 'Always 1; labels name the Meridian version, the Node.js version and the daemon',
    labelNames: ['version', 'node', 'daemon'],
    registers: [registry],
    // Cluster workers each report it: summing would count processes, not builds.
    aggregator: 'first',
  }).set({ version: packageVersion(), node: process.version, daemon }, 1);
  if (options.processMetrics === false) return;
  for (const metric of processMetrics().getMetricsAsArray()) registry.registerMetric(metric as never);
}
