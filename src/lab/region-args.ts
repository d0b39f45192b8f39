// The command lines of a region's DNS server and edge, and the lab's clocks:
// what deployment.ts starts, kept apart so it reads as a list.
import { join } from 'node:path';
import type { MeridianConfig } from '../config/index.js';
import type { NameServer } from './topology.js';

/**
 * Control's and the health checks' clocks shortened to the run, so a region
 * killed whole and restarted at two thirds is back, in steps, before the end.
 * Whole milliseconds: at 40 s, ms / 120 is 333.33, and the edges' peer probe
 * (AbortSignal.timeout refuses a fraction) failed every time.
 */
export function labClocks(config: MeridianConfig, durationS: number) {
  const ms = durationS * 1000;
  const whole = (v: number) => Math.round(v);
  return {
    riseAfterMs: whole(Math.min(config.control.health.riseAfter, Math.max(1500, ms / 20))),
    restoreStepMs: whole(Math.min(config.control.autoRestore.stepInterval, Math.max(500, ms / 30))),
    healthCheckIntervalMs: whole(Math.max(250, ms / 120)),
    /** etcd leader lease of the control instances (etcd rounds it up to whole seconds). */
    leaseTtlMs: whole(Math.min(3000, Math.max(1500, ms / 15))),
  };
}

export interface RegionServer {
  configFile: string;
  stateDir: string;
  /** `--control A,B,...` or nothing (the servers then follow the config file). */
  follow: string[];
}

export const dnsArgs = (ns: NameServer, s: RegionServer): string[] => [
  'dns',
  '--config',
  s.configFile,
  '--listen',
  `${ns.address}:${ns.port}`,
  '--admin',
  '127.0.0.1:0',
  ...s.follow,
  '--state-dir',
  join(s.stateDir, `dns-${ns.region}`),
];

export const edgeArgs = (region: string, port: number, s: RegionServer): string[] => [
  'edge',
  '--config',
  s.configFile,
  '--region',
  region,
  '--listen',
  `127.0.0.1:${port}`,
  '--admin',
  '127.0.0.1:0',
  // Within the lab's stop grace (5 s, src/lab/processes.ts), so a drain never ends in SIGKILL.
  '--drain-timeout',
  '2s',
  ...s.follow,
  '--state-dir',
  join(s.stateDir, `edge-${region}`),
];
