// Running `meridian dns` as a process: the snapshot source, the geo database,
// the server, and the ready line. With several workers see cluster.ts.

import { loadConfig } from '../config/index.js';
import { reloadConfigFile } from '../config/reload.js';
import { ControlSnapshotSource, FileSnapshotSource, type SnapshotSource } from '../feed/index.js';
import { GeoLocator } from '../geo/index.js';
import type { Logger } from '../log.js';
import { type DnsServer, startDnsServer } from './server.js';

export interface RunDnsOptions {
  configFile: string;
  listen?: string[];
  admin?: string;
  /** Processes serving queries; 0: one per CPU core; default: config dns.workers. */
  workers?: number;
  /** Control instances to follow (a list, or one URL or comma-separated string). */
  control?: string | readonly string[];
  token?: string;
  stateDir?: string;
  log: Logger;
}

export interface ReadyLine {
  ready: true;
  part: 'dns';
  listen: string;
  udp: string[];
  tcp: string[];
  admin: string | null;
  workers: number;
  /** True when UDP is received in batches by the native addon (src/dns/native). */
  batched: boolean;
  /** Which UDP loop serves (batched: the native addon; dgram: Node's loop), and why. */
  loop: 'batched' | 'dgram';
  loopWhy: string;
  pid: number;
}

export interface RunningDns {
  ready: ReadyLine;
  /** SIGHUP: re-read the config file and serve it (see reloadDnsConfig). */
  reload(): void;
  close(): Promise<void>;
}

/** What a running DNS server cannot change without a restart. */
export const DNS_RESTART_ONLY = [
  'dns.listen',
  'dns.admin',
  'dns.workers',
  'dns.tcpIdleTimeout',
  'dns.maxTcpConnections',
  'dns.rateLimit',
  'geo',
];

/**
 * Re-reads the config file; when valid, the source serves it (zone, steering,
 * services, dials from the config) and the engine takes it on its next
 * change. `quiet`: a cluster worker (the primary logs what changed).
 */
export function reloadDnsConfig(options: RunDnsOptions, source: SnapshotSource, quiet = false): boolean {
  const log = quiet ? options.log.child({}, { level: 'warn' }) : options.log;
  const result = reloadConfigFile(options.configFile, source.config(), DNS_RESTART_ONLY, log);
  if (!result) return false;
  if (result.changed.length > 0) source.reload?.(result.config);
  return true;
}

export function openSource(options: RunDnsOptions): SnapshotSource {
  if (options.control) {
    return new ControlSnapshotSource({
      controlUrl: options.control,
      token: options.token ?? '',
      configFile: options.configFile,
      stateDir: options.stateDir,
      log: options.log,
    });
  }
  return new FileSnapshotSource(options.configFile, { log: options.log });
}

/** One process: source, geo database and server, closed together; `workers` processes share its sockets. */
export async function startOne(
  options: RunDnsOptions,
  admin: string | null | undefined,
  workers = 1,
): Promise<{ server: DnsServer; source: SnapshotSource; close(): Promise<void> }> {
  const source = openSource(options);
  await source.start();
  try {
    const geo = await GeoLocator.open(source.config().geo);
    const server = await startDnsServer({
      source,
      geo,
      log: options.log,
      listen: options.listen,
      admin,
      workers,
    });
    return {
      server,
      source,
      close: async () => {
        await server.close();
        await source.close();
      },
    };
  } catch (e) {
    await source.close();
    throw e;
  }
}

export async function runDns(options: RunDnsOptions): Promise<RunningDns> {
  const config = loadConfig(options.configFile);
  const workers = options.workers ?? config.dns.workers;
  if (workers !== 1) {
    const { runCluster } = await import('./cluster.js');
    return runCluster(options, workers);
  }
  const { server, source, close } = await startOne(options, options.admin);
  const ready: ReadyLine = {
    ready: true,
    part: 'dns',
    listen: server.udp[0],
    udp: server.udp,
    tcp: server.tcp,
    admin: server.admin,
    workers: 1,
    batched: server.batched,
    loop: server.loop,
    loopWhy: server.loopWhy,
    pid: process.pid,
  };
  return {
    ready,
    reload: () => void reloadDnsConfig(options, source),
    close: async () => {
      await server.drain();
      await close();
    },
  };
}
