import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { MeridianConfig } from '../config/index.js';
import { reloadConfigFile } from '../config/reload.js';
import { ControlSnapshotSource } from '../feed/control-source.js';
import { FileSnapshotSource } from '../feed/file-source.js';
import type { EdgeReport } from '../feed/report.js';
import { startReporter } from '../feed/reporter.js';
import type { SnapshotSource } from '../feed/source.js';
import { GeoLocator } from '../geo/index.js';
import type { Logger } from '../log.js';
import { runPrimary, runWorker } from './cluster.js';
import { Edge } from './edge.js';

export interface RunEdgeOptions {
  configFile: string;
  region: string;
  listen?: string;
  admin?: string;
  workers?: number;
  /** Control instances to follow (a list, or one URL or comma-separated string). */
  control?: string | readonly string[];
  token?: string;
  stateDir?: string;
  log: Logger;
  /** Replication lag into this region (src/replication's probe), sent as EdgeReport.replicationLagMs. */
  replicationLagMs?: () => number | null;
  /** Retention headroom into this region (src/replication/retention.ts), sent as EdgeReport.replicationRetention. */
  replicationRetention?: () => EdgeReport['replicationRetention'] | null;
  /** How long requests in flight may finish on SIGTERM (ms); default edge.drainTimeout. */
  drainTimeout?: number;
}

/** What a running edge cannot change without a restart (TLS files are re-read, their paths are not). */
export const EDGE_RESTART_ONLY = [
  'edge.listen',
  'edge.admin',
  'edge.workers',
  'edge.tls',
  'edge.peers',
  'edge.peerProbeInterval',
  'edge.maxConnections',
  'edge.maxHeaderSize',
  'edge.maxRequestsPerConnection',
  'edge.timeouts',
  'edge.accessLog',
  'regions',
  'trust',
  'geo',
];

export const drainTimeoutOf = (o: RunEdgeOptions, config: MeridianConfig) =>
  o.drainTimeout ?? config.edge.drainTimeout;

/**
 * SIGHUP: re-reads the config file (and the TLS certificate and key, given
 * `edge`); when valid, the source serves it and the edge applies it
 * (runtime.applyConfig). `quiet`: a cluster worker (the primary logs).
 * Returns the config now served, or null when the old one stays.
 */
export function reloadEdgeConfig(
  o: RunEdgeOptions,
  source: Pick<SnapshotSource, 'config' | 'reload'>,
  edge: Edge | null,
  quiet: boolean,
): MeridianConfig | null {
  const log = quiet ? o.log.child({}, { level: 'warn' }) : o.log;
  const running = source.config();
  const result = reloadConfigFile(o.configFile, running, EDGE_RESTART_ONLY, log, (next) =>
    edge?.reloadTls(next.edge.tls ? { ...next.edge.tls } : undefined),
  );
  if (!result) return null;
  if (result.changed.length > 0) source.reload?.(result.config);
  return result.config;
}

/** The report with the replication lag added when one is known. */
export function withReplicationLag(report: EdgeReport, lag: (() => number | null) | undefined): EdgeReport {
  const ms = lag?.();
  return ms === null || ms === undefined ? report : { ...report, replicationLagMs: ms };
}

/** The report with what the edge knows of replication into its region: lag and retention. */
export function withReplication(
  report: EdgeReport,
  o: Pick<RunEdgeOptions, 'replicationLagMs' | 'replicationRetention'>,
) {
  const withLag = withReplicationLag(report, o.replicationLagMs);
  const retention = o.replicationRetention?.();
  return retention ? { ...withLag, replicationRetention: retention } : withLag;
}

export interface ReadyLine {
  ready: true;
  part: 'edge';
  region: string;
  listen: string;
  admin: string | null;
  workers: number;
}

export interface RunningEdge {
  ready: ReadyLine;
  /** SIGHUP: see reloadEdgeConfig. */
  reload(): void;
  close(): Promise<void>;
}

export async function openSource(o: RunEdgeOptions): Promise<SnapshotSource> {
  const source: SnapshotSource = o.control
    ? new ControlSnapshotSource({
        controlUrl: o.control,
        token: o.token ?? '',
        configFile: o.configFile,
        stateDir: o.stateDir,
        log: o.log,
      })
    : new FileSnapshotSource(o.configFile, { log: o.log });
  await source.start();
  return source;
}

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
    ready: { ready: true, part: 'edge', region: o.region, ...addresses, workers: 1 },
    reload: () => void reloadEdgeConfig(o, source, edge, false),
    async close() {
      await edge.drain(drainTimeoutOf(o, source.config()));
      await reporter?.close();
      await edge.close();
      await source.close();
    },
  };
}
