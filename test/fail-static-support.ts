// Shared by test/fail-static.test.ts: a control plane that can be stopped and
// started again on the same port and state file, and a data plane (DNS server
// or edge) in this process following it with the real ControlSnapshotSource.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { loadConfig } from '../src/config/index.js';
import { type ControlServer, startControl } from '../src/control/server.js';
import { startDnsServer } from '../src/dns/server.js';
import { Edge } from '../src/edge/edge.js';
import { ControlSnapshotSource } from '../src/feed/control-source.js';
import type { SnapshotSync } from '../src/feed/sync.js';
import { GeoLocator } from '../src/geo/index.js';
import { createLogger } from '../src/log.js';
import { stop } from './control-deployment.js';
import { controlConfigFile, TOKENS } from './control-fixtures.js';
import { addressesOf, kdigAsync } from './dns-support.js';
import { configWithFreePorts, freePort } from './helpers/ports.js';

export const EAST = 'us-east-1';
export const EAST_A = '192.0.2.10';
export const WEST_A = '198.51.100.10';

/** examples/two-regions.yaml with free ports and control tokens; control on a fixed free port. */
export type Deployment = Awaited<ReturnType<typeof deployment>>;

export async function deployment() {
  const base = await configWithFreePorts('examples/two-regions.yaml');
  const { file, dir } = controlConfigFile({}, base.file, base.dir);
  const url = `http://127.0.0.1:${await freePort()}`;
  const db = join(dir, 'control.db');
  let control: ControlServer | undefined;
  let child: ChildProcess | undefined;
  return {
    file,
    dir,
    url,
    db,
    stateDir: join(dir, 'plane-state'),
    /** Starts control in this process on its port; `stateFile`: another store (a restored backup). */
    async startControl(opts: { stateFile?: string } = {}) {
      control = await startControl({
        config: loadConfig(file),
        log: createLogger('control', process.env.MERIDIAN_LOG_LEVEL ?? 'silent'),
        listen: url.slice('http://'.length),
        stateFile: opts.stateFile ?? db,
        env: {},
      });
      return control;
    },
    /** `meridian control` as a user runs it, with `args` (such as --new-epoch). */
    async startControlProcess(stateFile: string, args: string[] = []) {
      const listen = url.slice('http://'.length);
      const proc = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'control', '--config', file, '--listen', listen].concat([
          '--state',
          stateFile,
          ...args,
        ]),
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' } },
      );
      child = proc;
      let stderr = '';
      proc.stderr!.on('data', (c) => {
        stderr += c;
      });
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: proc.stdout! }).once('line', () => resolve());
        proc.once('exit', () => reject(new Error(`control exited before ready: ${stderr}`)));
      });
      return () => stderr;
    },
    controlUp: () => control !== undefined || child !== undefined,
    async stopControl() {
      await control?.close();
      control = undefined;
      if (child) await stop(child);
      child = undefined;
    },
    /** A copy of the (closed) SQLite store, as a backup would be. */
    backup(to: string) {
      for (const ext of ['', '-wal', '-shm']) if (existsSync(db + ext)) copyFileSync(db + ext, to + ext);
      return to;
    },
  };
}

export type Kind = 'dns' | 'edge';

export interface DataPlane {
  kind: Kind;
  admin: string;
  logs: { level: number; msg: string; [k: string]: unknown }[];
  health(): Promise<{ sync?: SnapshotSync; dial: number | undefined; [k: string]: unknown }>;
  metrics(): Promise<string>;
  /** DNS only: the A addresses answered for api.example.com to a client of unknown location. */
  answer(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A DNS server or us-east-1's edge with its snapshot from control. Timers are
 * scaled down (start waits 500 ms for control, reconnects within 300 ms) so
 * that the test waits on events, not on production timeouts.
 */
export async function startDataPlane(
  kind: Kind,
  d: { file: string; url: string; stateDir: string },
): Promise<DataPlane> {
  const logs: DataPlane['logs'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const source = new ControlSnapshotSource({
    controlUrl: d.url,
    token: TOKENS.agent,
    configFile: d.file,
    stateDir: d.stateDir,
    log,
    startTimeoutMs: 500,
    minBackoffMs: 50,
    maxBackoffMs: 300,
    unsyncedWarnMs: 200,
  });
  await source.start();
  const geo = await GeoLocator.open(source.config().geo);
  const getJson = async (url: string) => (await fetch(url)).json() as Promise<Record<string, unknown>>;
  if (kind === 'dns') {
    const server = await startDnsServer({ source, geo, log, listen: ['127.0.0.1:0'], admin: '127.0.0.1:0' });
    const port = Number(server.udp[0].split(':').pop());
    return {
      kind,
      admin: server.admin!,
      logs,
      async health() {
        const h = await getJson(`http://${server.admin}/meridian/health`);
        const regions = h.regions as { id: string; dial: number }[];
        return { ...h, dial: regions.find((r) => r.id === EAST)?.dial };
      },
      metrics: async () => (await fetch(`http://${server.admin}/metrics`)).text(),
      answer: async () => addressesOf(await kdigAsync(port, ['api.example.com', 'A'])) as string[],
      async close() {
        await server.close();
        await source.close();
      },
    };
  }
  const edge = new Edge({
    config: source.config(),
    region: EAST,
    source,
    geo,
    log,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
  });
  const { admin } = await edge.start();
  return {
    kind,
    admin: admin!,
    logs,
    async health() {
      const h = await getJson(`http://${admin}/meridian/health`);
      // The dial the pipeline steers with (health shows it too, as snapshot.dial).
      return { ...h, dial: edge.runtime.snapshot.regions.get(EAST)?.dial };
    },
    metrics: async () => (await fetch(`http://${admin}/metrics`)).text(),
    answer: async () => [],
    async close() {
      await edge.close();
      await source.close();
    },
  };
}

/** The value of a metric with no labels other than edge's default one; NaN when absent. */
export function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}
