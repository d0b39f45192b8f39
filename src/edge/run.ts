import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { startReporter } from '../feed/reporter.js';
import { GeoLocator } from '../geo/index.js';
import { runPrimary, runWorker } from './cluster.js';
import { Edge } from './edge.js';
import {
  drainTimeoutOf,
  openSource,
  type ReadyLine,
  type RunEdgeOptions,
  type RunningEdge,
  reloadEdgeConfig,
  withReplication,
} from './run-shared.js';

export type { ReadyLine, RunEdgeOptions, RunningEdge } from './run-shared.js';

/** Starts one edge in this process, or a cluster of workers behind one port (edge.workers / --workers). */
export async function runEdge(o: RunEdgeOptions): Promise<RunningEdge> {
  if (cluster.isWorker) {
    await runWorker(o);
    return { ready: null as unknown as ReadyLine, reload: () => {}, close: async () => {} };
  }
  const source = await openSource(o);
  const config = source.config();
  const wanted = o.workers ?? config.edge.workers;
  const workers = wanted === 0 ? availableParallelism() : wanted;
  if (workers > 1) return runPrimary(o, source, workers);

  const geo = await GeoLocator.open(config.geo);
  const edge = new Edge({
    config,
    region: o.region,
    source,
    geo,
    log: o.log,
    listen: o.listen,
    admin: o.admin,
  });
  let addresses: Awaited<ReturnType<Edge['start']>>;
  try {
    addresses = await edge.start();
  } catch (e) {
    await edge.close().catch(() => {});
    await source.close();
    throw e;
  }
  const reporter =
    o.control && o.token
      ? startReporter({
          controlUrl: o.control,
          token: o.token,
          collect: () => withReplication(edge.collect(), o),
          log: o.log,
        })
      : null;
  return {
    ready: {
      ready: true,
      part: 'edge',
      region: o.region,
      ...addresses,
      listen: addresses.listen!,
      workers: 1,
    },
    reload: () => void reloadEdgeConfig(o, source, edge, false),
    async close() {
      await edge.drain(drainTimeoutOf(o, source.config()));
      await reporter?.close();
      await edge.close();
      await source.close();
    },
  };
}
