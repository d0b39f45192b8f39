import cluster, { type Worker } from 'node:cluster';
import { MeridianError } from '../errors.js';
import { startReporter } from '../feed/reporter.js';
import type { SnapshotSource } from '../feed/source.js';
import { GeoLocator } from '../geo/index.js';
import { type MetricsJson, processMetrics } from '../metrics-conventions.js';
import { type AdminBackend, AdminServer, adminAccess } from './admin.js';
import { defaultListen, Edge } from './edge.js';
import { type FaultSettings, NO_FAULT } from './fault.js';
import { ReportCollector } from './report.js';
import type { ReadyLine, RunEdgeOptions, RunningEdge } from './run-shared.js';
import { drainTimeoutOf, openSource, reloadEdgeConfig, withReplication } from './run-shared.js';
import { formatHostPort, parseHostPort } from './server.js';
import { mergeStats, type StatsSnapshot } from './stats.js';

// Several processes share the data port (the primary hands out connections);
// the primary runs the admin port and the reporter and asks workers for their
// numbers over IPC. Each worker follows the snapshot and checks origins itself.

type Readiness = Awaited<ReturnType<AdminBackend['ready']>>;
type ToWorker =
  | { id: number; ask: 'stats' | 'health' | 'process' | 'ready' }
  | { id: number; fault: FaultSettings }
  | { id: number; reload: true };
type FromWorker =
  | { ready: string }
  | { id: number; process: MetricsJson }
  | { id: number; stats: StatsSnapshot }
  | { id: number; health: unknown }
  | { id: number; readiness: Readiness }
  | { id: number; ok: true };

export async function runWorker(o: RunEdgeOptions): Promise<void> {
  const source = await openSource(o);
  const config = source.config();
  const geo = await GeoLocator.open(config.geo);
  const edge = new Edge({
    config,
    region: o.region,
    source,
    geo,
    log: o.log,
    listen: o.listen,
    admin: false,
  });
  const { listen } = await edge.start();
  const rt = edge.runtime;
  const processRegistry = processMetrics();
  process.on('message', (m: ToWorker) => {
    if ('fault' in m) {
      rt.setFault(m.fault);
      process.send?.({ id: m.id, ok: true });
    } else if ('reload' in m) reloadEdgeConfig(o, source, edge, true);
    else if (m.ask === 'stats') process.send?.({ id: m.id, stats: rt.statsSnapshot() });
    else if (m.ask === 'health') process.send?.({ id: m.id, health: rt.healthDocument() });
    else if (m.ask === 'process')
      processRegistry.getMetricsAsJSON().then(
        (json) => process.send?.({ id: m.id, process: json }),
        () => process.send?.({ id: m.id, process: [] }),
      );
    else if (m.ask === 'ready') process.send?.({ id: m.id, readiness: rt.readiness() });
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await edge.drain(drainTimeoutOf(o, source.config()));
    await edge.close();
    await source.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  // The primary decides when workers stop and reload (a terminal's signals reach the whole group).
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.on('disconnect', stop);
  process.send?.({ ready: listen });
}

export async function runPrimary(
  o: RunEdgeOptions,
  source: SnapshotSource,
  count: number,
): Promise<RunningEdge> {
  const config = source.config();
  const listenAt = o.listen ?? defaultListen(config, o.region);
  parseHostPort(listenAt, '--listen');
  let closing = false;
  let draining = false;
  let nextId = 1;
  const pending = new Map<number, (m: FromWorker) => void>();
  const workers = new Set<Worker>();
  let fault: FaultSettings = NO_FAULT;

  const ask = (w: Worker, m: Omit<ToWorker, 'id'>) =>
    new Promise<FromWorker | null>((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(null);
      }, 1000);
      timer.unref();
      pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      w.send({ ...m, id });
    });
  const askAll = async (m: Omit<ToWorker, 'id'>) =>
    (await Promise.all([...workers].map((w) => ask(w, m)))).filter((r) => r !== null);

  let listen = '';
  const fork = () =>
    new Promise<void>((resolve, reject) => {
      const w = cluster.fork({ MERIDIAN_EDGE_WORKER: '1' });
      let wasReady = false;
      workers.add(w);
      // send() to a worker that just died is an `error` event: logged, never the primary's end.
      w.on('error', (e) => o.log.warn({ pid: w.process.pid, err: e.message }, 'edge worker channel error'));
      w.on('message', (m: FromWorker) => {
        if ('ready' in m) {
          wasReady = true;
          listen = m.ready;
          if (fault !== NO_FAULT) w.send({ id: 0, fault });
          resolve();
        } else pending.get(m.id)?.(m);
      });
      w.on('exit', (code) => {
        workers.delete(w);
        if (closing) return;
        if (!wasReady) {
          reject(new MeridianError('INTERNAL', `edge worker exited with code ${code} before it was ready`));
          return;
        }
        o.log.error({ code }, 'edge worker exited; starting another');
        fork().catch((e) => o.log.error({ err: e }, 'edge worker could not be restarted'));
      });
    });
  cluster.setupPrimary({ args: process.argv.slice(2) });
  await Promise.all(Array.from({ length: count }, fork));

  let latest: StatsSnapshot | null = null;
  const refresh = async () => {
    const replies = await askAll({ ask: 'stats' });
    const snaps = replies.map((r) => (r as { stats: StatsSnapshot }).stats);
    if (snaps.length > 0) latest = mergeStats(snaps);
    return latest!;
  };
  const admin = new AdminServer(
    {
      region: o.region,
      stats: refresh,
      health: async () => {
        const replies = await askAll({ ask: 'health' });
        return { ...(replies[0] as { health: object })?.health, workers: replies.length };
      },
      workerProcessMetrics: async () =>
        (await askAll({ ask: 'process' })).map((r) => (r as { process: MetricsJson }).process),
      ready: async () => {
        if (draining) return { ready: false, draining: true };
        const replies = (await askAll({ ask: 'ready' })) as { readiness: Readiness }[];
        const waitingFor = [...new Set(replies.flatMap((r) => r.readiness.waitingFor ?? []))];
        if (replies.length < count) waitingFor.push('workers');
        return waitingFor.length === 0 ? { ready: true } : { ready: false, waitingFor };
      },
      fault: () => fault,
      setFault: async (f) => {
        fault = f;
        await askAll({ fault: f });
      },
    },
    o.log,
    adminAccess(config.edge.admin, (m) => o.log.warn(m)),
  );
  const adminAt = await admin.listen(parseHostPort(o.admin ?? config.edge.admin.listen, '--admin'));
  const collector = new ReportCollector(
    o.region,
    () => source.current().regions.get(o.region)?.capacity ?? 0,
  );
  const poll = setInterval(() => void refresh(), 1000);
  poll.unref();
  const reporter =
    o.control && o.token
      ? startReporter({
          controlUrl: o.control,
          token: o.token,
          collect: () => withReplication(collector.collect(latest ?? mergeStats([emptyStats()])), o),
          log: o.log,
        })
      : null;
  const ready: ReadyLine = {
    ready: true,
    part: 'edge',
    region: o.region,
    listen,
    admin: formatHostPort(adminAt),
    workers: count,
  };
  return {
    ready,
    reload() {
      // Validated and logged here once; every worker then re-reads the file and applies it itself.
      if (reloadEdgeConfig(o, source, null, false) === null) return;
      for (const w of workers) w.send({ id: 0, reload: true });
    },
    async close() {
      closing = true;
      draining = true;
      clearInterval(poll);
      // Workers drain (edge.drainTimeout / --drain-timeout) while the admin port reports not ready.
      const exits = [...workers].map((w) => new Promise((r) => w.once('exit', r)));
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(exits);
      await reporter?.close();
      await admin.close();
      await source.close();
    },
  };
}

function emptyStats(): StatsSnapshot {
  return {
    requests: {},
    shed: {},
    retries: 0,
    retriesDenied: 0,
    connectionsRefused: 0,
    retryBudgetLeft: 0,
    errors: 0,
    originAttempts: 0,
    originErrors: 0,
    latency: [],
    latencySumMs: 0,
    originLatency: [],
    demandByHome: {},
    origins: [],
    peers: {},
    limits: {},
    inFlight: 0,
  };
}
