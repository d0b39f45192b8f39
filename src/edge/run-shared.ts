import type { MeridianConfig } from '../config/index.js';
import { reloadConfigFile } from '../config/reload.js';
import { ControlSnapshotSource } from '../feed/control-source.js';
import { FileSnapshotSource } from '../feed/file-source.js';
import type { EdgeReport } from '../feed/report.js';
import type { SnapshotSource } from '../feed/source.js';
import type { Logger } from '../log.js';
import type { Edge } from './edge.js';

// What the single-process runner (run.ts) and the cluster (cluster.ts) share.

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
  'edge.http2',
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
