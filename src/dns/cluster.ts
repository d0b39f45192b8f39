// Several worker processes answer queries. TCP: the cluster primary shares one
// listening socket per address with every worker. UDP: with the batched loop
// each worker binds its own socket to the same address (SO_REUSEPORT; for port
// 0 the later workers take the port the first one got) and the kernel spreads
// queries over them; with the dgram loop (Node 20's dgram has no SO_REUSEPORT)
// the primary shares one socket. Either way each worker rate-limits to its
// share (rate-limit.ts). The primary serves the admin port: metrics summed
// over workers.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, Registry } from 'prom-client';
import { loadConfig } from '../config/index.js';
import { reloadConfigFile } from '../config/reload.js';
import { ERRORS, type ErrorCode, isMeridianError, MeridianError } from '../errors.js';
import { primaryProcessMetrics } from '../metrics-conventions.js';
import { startAdmin } from './admin.js';
import { DEFAULT_DRAIN } from './drain.js';
import type { ReadyLine, RunDnsOptions, RunningDns } from './run.js';
import { DNS_RESTART_ONLY, reloadDnsConfig, startOne } from './run.js';
import { parseHostPort } from './sockets.js';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

const WORKER_ENV = 'MERIDIAN_DNS_WORKER';
/** How many workers share the sockets: each rate-limits to its share (rate-limit.ts). */
const WORKERS_ENV = 'MERIDIAN_DNS_WORKERS';
/** The addresses the first worker bound (JSON list), for the others to bind with SO_REUSEPORT. */
const LISTEN_ENV = 'MERIDIAN_DNS_WORKER_LISTEN';

type WorkerReady = {
  udp: string[];
  tcp: string[];
  batched: boolean;
  loop: 'batched' | 'dgram';
  loopWhy: string;
};
type FromWorker =
  | ({ meridianDns: 'ready' } & WorkerReady)
  | { meridianDns: 'failed'; message: string; code?: string }
  | {
      meridianDns: 'stats';
      id: number;
      metrics: MetricsJson;
      health: unknown;
      ready: ReturnType<DnsServerReadiness>;
    };

type DnsServerReadiness = Awaited<ReturnType<typeof startOne>>['server']['readiness'];

export const isClusterWorker = () => cluster.isWorker && process.env[WORKER_ENV] === '1';

/** In a worker: serve, report ready, answer stats requests, stop when told. */
export async function runClusterWorker(options: RunDnsOptions): Promise<void> {
  let running: Awaited<ReturnType<typeof startOne>>;
  try {
    const listen = process.env[LISTEN_ENV] ? (JSON.parse(process.env[LISTEN_ENV]) as string[]) : undefined;
    running = await startOne(
      { ...options, listen: listen ?? options.listen },
      null,
      Number(process.env[WORKERS_ENV]) || 1,
    );
  } catch (e) {
    process.send?.({
      meridianDns: 'failed',
      message: (e as Error).message,
      code: isMeridianError(e) ? e.code : undefined,
    });
    process.exit(1);
  }
  const { server } = running;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.drain();
    await running.close();
    process.exit(0);
  };
  // The primary decides when workers stop and reload (a terminal's signals reach the whole group).
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  process.on('message', async (m: { meridianDns?: string; id?: number }) => {
    if (m?.meridianDns === 'stop') await stop();
    if (m?.meridianDns === 'reload') reloadDnsConfig(options, running.source, true);
    if (m?.meridianDns === 'stats') {
      const metrics = await server.metrics.registry.getMetricsAsJSON();
      const ready = server.readiness();
      process.send?.({ meridianDns: 'stats', id: m.id, metrics, health: server.health(), ready });
    }
  });
  const ready: FromWorker = {
    meridianDns: 'ready',
    udp: server.udp,
    tcp: server.tcp,
    batched: server.batched,
    loop: server.loop,
    loopWhy: server.loopWhy,
  };
  process.send?.(ready);
}

export async function runCluster(options: RunDnsOptions, requested: number): Promise<RunningDns> {
  let config = loadConfig(options.configFile);
  const count = requested === 0 ? availableParallelism() : requested;
  const log = options.log;
  let stopping = false;
  const workers = new Set<Worker>();
  type Stats = { metrics: MetricsJson; health: unknown; ready: ReturnType<DnsServerReadiness> };
  const waiting = new Map<number, (r: Stats) => void>();
  let draining = false;
  let nextId = 0;
  let sharedListen: string[] | undefined;

  const fork = (listen?: string[]): Promise<WorkerReady> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({
        [WORKER_ENV]: '1',
        [WORKERS_ENV]: String(count),
        ...(listen ? { [LISTEN_ENV]: JSON.stringify(listen) } : {}),
      });
      workers.add(worker);
      // send() to a worker that just died is an `error` event: logged, never the primary's end.
      worker.on('error', (e) =>
        log.warn({ pid: worker.process.pid, err: e.message }, 'dns worker channel error'),
      );
      worker.on('message', (m: FromWorker) => {
        if (m.meridianDns === 'ready') resolve(m);
        if (m.meridianDns === 'failed') reject(new MeridianError(workerErrorCode(m.code), m.message));
        if (m.meridianDns === 'stats') waiting.get(m.id)?.(m);
      });
      worker.on('exit', (code) => {
        workers.delete(worker);
        reject(new MeridianError('INTERNAL', `dns worker exited with code ${code} before it was ready`));
        if (stopping) return;
        log.error({ pid: worker.process.pid, code }, 'dns worker exited; starting another');
        setTimeout(
          () => fork(sharedListen).catch((e) => log.error({ err: e.message }, 'restart failed')),
          1000,
        ).unref();
      });
    });

  const stopWorkers = async () => {
    stopping = true;
    await Promise.all(
      [...workers].map(
        (w) =>
          new Promise<void>((done) => {
            // A worker first drains (up to its maximum), then closes.
            const force = setTimeout(() => w.kill('SIGKILL'), DEFAULT_DRAIN.maxMs + 3000);
            w.once('exit', () => {
              clearTimeout(force);
              done();
            });
            w.send({ meridianDns: 'stop' });
          }),
      ),
    );
  };

  let first: WorkerReady;
  try {
    // dgram: workers asking for the same ADDR:PORT (port 0 too) share the primary's one socket.
    // batched: the others bind the ports the first one got, beside it (SO_REUSEPORT).
    first = await fork();
    sharedListen = first.loop === 'batched' ? first.udp : undefined;
    await Promise.all(Array.from({ length: count - 1 }, () => fork(sharedListen)));
  } catch (e) {
    await stopWorkers();
    throw e;
  }

  const ask = (w: Worker) =>
    new Promise<Stats>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('worker did not answer'));
      }, 2000);
      waiting.set(id, (r) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(r);
      });
      w.send({ meridianDns: 'stats', id });
    });
  const adminAt = parseHostPort(options.admin ?? config.dns.admin);
  if (!adminAt)
    throw new MeridianError('BAD_ARGUMENT', `--admin: expected ADDRESS:PORT, got "${options.admin}"`);
  // Each worker's process_* and nodejs_* series carry worker="<id>", the primary's worker="primary".
  const primaryMetrics = primaryProcessMetrics();
  const admin = await startAdmin(adminAt, {
    onError: (e) => log.warn({ err: e.message }, 'admin listener error'),
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    metrics: async () => {
      const all = await Promise.all([...workers].map(ask));
      const own = await primaryMetrics.getMetricsAsJSON();
      return AggregatorRegistry.aggregate([...all.map((r) => r.metrics), own]).metrics();
    },
    health: async () => {
      const [w] = workers;
      const h = w ? ((await ask(w)).health as object) : { part: 'dns', state: 'starting' };
      return { ...h, workers: workers.size };
    },
    ready: async () => {
      if (draining) return { ready: false, draining: true };
      const all = await Promise.all([...workers].map(ask));
      const waitingFor = [...new Set(all.flatMap((r) => r.ready.waitingFor ?? []))];
      if (all.length < count) waitingFor.push('workers');
      return waitingFor.length === 0 ? { ready: true } : { ready: false, waitingFor };
    },
  });
  const ready: ReadyLine = {
    ready: true,
    part: 'dns',
    listen: first.udp[0],
    udp: first.udp,
    tcp: first.tcp,
    admin: admin.address,
    workers: count,
    batched: first.batched,
    loop: first.loop,
    loopWhy: first.loopWhy,
    pid: process.pid,
  };
  return {
    ready,
    reload: () => {
      // Validated and logged here once; every worker then re-reads the file itself.
      const result = reloadConfigFile(options.configFile, config, DNS_RESTART_ONLY, log);
      if (!result) return;
      config = result.config;
      for (const w of workers) w.send({ meridianDns: 'reload' });
    },
    close: async () => {
      draining = true;
      await stopWorkers();
      await admin.close();
    },
  };
}

/** A worker's error code as the primary reports it (INTERNAL for one the registry does not know). */
function workerErrorCode(code: string | undefined): ErrorCode {
  return code !== undefined && code in ERRORS ? (code as ErrorCode) : 'INTERNAL';
}
