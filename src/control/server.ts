import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { MeridianConfig } from '../config/index.js';
import { reloadConfigFile } from '../config/reload.js';
import { regionsInRollout } from '../core/operations/rollout-record.js';
import { MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import { buildApp } from './app.js';
import { TokenAuth } from './auth.js';
import { AutoRestore } from './auto-restore.js';
import type { ControlContext } from './context.js';
import { controlMetrics } from './metrics.js';
import { Observer } from './observer.js';
import { Operations } from './operations.js';
import { OutlierControl } from './outlier.js';
import { RolloutRunner } from './rollout/runner.js';
import { RolloutSamples } from './rollout/samples.js';
import { StateKeeper } from './state.js';
import { type Leadership, openStore } from './store/index.js';
import { SnapshotStream, type StreamLimits } from './stream.js';

export interface ControlOptions {
  config: MeridianConfig;
  log: Logger;
  /** ADDR:PORT; default config control.listen. Port 0 picks a free port. */
  listen?: string;
  /** SQLite file; overrides control.store.file. */
  stateFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Start a new snapshot epoch (a control restored from a backup takes over on purpose). */
  newEpoch?: boolean;
  /** Caps on the snapshot stream's followers (tests shorten them). */
  streamLimits?: Partial<StreamLimits>;
  /** The file `config` came from, re-read by reload() (SIGHUP). */
  configFile?: string;
}

/**
 * What a running control cannot change without a restart. The rest (gates,
 * auto-restore, scale-up, rpo, rollout...) is read where it is used, so a
 * reload applies to the next decision.
 */
export const CONTROL_RESTART_ONLY = [
  'control.listen',
  'control.url',
  'control.tls',
  'control.store',
  'control.tokens',
  'control.health',
  'control.outlier',
  'regions',
];

export interface ControlServer {
  url: string;
  app: FastifyInstance;
  context: ControlContext;
  /** Re-reads options.configFile (and the TLS files): applies what can change live, keeps the old config on error. */
  reload(): void;
  close(): Promise<void>;
}

export function splitListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65_535)
    throw new MeridianError('BAD_ARGUMENT', `--listen expects ADDR:PORT, got "${listen}"`);
  return { host: m[1], port: Number(m[2]) };
}

export async function startControl(options: ControlOptions): Promise<ControlServer> {
  const { config, log } = options;
  const auth = new TokenAuth(
    config.control,
    options.env ?? process.env,
    config.regions.map((r) => r.id),
    (m) => log.warn(m),
  );
  if (auth.size === 0)
    log.warn(
      'no control tokens configured: every API call except /v1/health, /metrics and /openapi.json is refused',
    );
  const tls = config.control.tls;
  const https = tls ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } : undefined;
  const { host, port } = splitListen(options.listen ?? config.control.listen);
  const store = openStore(config.control, options.stateFile, { env: options.env, log });
  const keeper = new StateKeeper(store, config, log);
  await keeper.open().catch(async (e) => {
    await store.close();
    throw e;
  });
  if (options.newEpoch) {
    const epoch = await keeper.newEpoch();
    log.warn(
      { epoch, version: keeper.current().version },
      'started a new snapshot epoch: data planes take this state',
    );
  }
  const metrics = controlMetrics();
  let leadership: Leadership | undefined;
  const isLeader = () => leadership?.isLeader ?? false;
  const observer = new Observer(config, keeper, metrics, log, isLeader);
  const operations = new Operations(config, keeper, observer, metrics, log, () => context.instance);
  const autoRestore = new AutoRestore(config, keeper, operations, log, isLeader);
  // A running rollout's wave is judged by its own canary, not moved as an outlier.
  const outlier = new OutlierControl(config, keeper, observer, operations, log, isLeader, (state) =>
    regionsInRollout(state.rollout),
  );
  const rollouts = new RolloutRunner(
    config,
    keeper,
    observer,
    new RolloutSamples(),
    log,
    isLeader,
    () => context.instance,
    options.env ? { ...process.env, ...options.env } : process.env,
  );
  const stream = new SnapshotStream(() => keeper.snapshot(), metrics, log, options.streamLimits);
  const context: ControlContext = {
    config,
    keeper,
    observer,
    operations,
    autoRestore,
    outlier,
    rollouts,
    auth,
    metrics,
    stream,
    log,
    instance: '',
    leadership: {
      get isLeader() {
        return isLeader();
      },
      leader: async () => (leadership ? leadership.leader() : null),
    },
  };
  const regionIds = config.regions.map((r) => r.id);
  keeper.onChange((state, snap) => {
    stream.publish(snap);
    metrics.observeSnapshot(snap);
    metrics.observeOutlier(regionIds, state.outlier);
  });
  metrics.observeSnapshot(keeper.snapshot());
  metrics.observeOutlier(regionIds, keeper.current().outlier);
  const app = await buildApp(context, { https });
  let draining = false;
  app.get(
    '/meridian/health',
    { config: { public: true }, schema: { summary: 'Liveness: 200 while the process runs' } },
    async () => ({ ok: true }),
  );
  app.get(
    '/meridian/ready',
    {
      config: { public: true },
      schema: { summary: 'Readiness: 200 once the store is open and (etcd) a leader is known; 503 draining' },
    },
    async (_req, reply) => {
      if (draining) return reply.code(503).send({ ready: false, draining: true });
      const leader = await (leadership?.leader() ?? Promise.resolve(null)).catch(() => null);
      if (leader === null) return reply.code(503).send({ ready: false, waitingFor: ['leader'] });
      return { ready: true };
    },
  );
  await app.listen({ host, port });
  // After listening, a server error (an accept failing with EMFILE) is logged, not thrown.
  app.server.on('error', (e) => log.warn({ err: e.message }, 'listener error'));
  const addr = app.server.address() as { address: string; port: number };
  const shownHost = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = config.control.url ?? `${https ? 'https' : 'http'}://${shownHost}:${addr.port}`;
  context.instance = url;

  const ttl = config.control.store.type === 'etcd' ? config.control.store.leaseTtl : 3000;
  leadership = store.campaign(url, ttl);
  leadership.onChange((leader) => {
    metrics.leader.set(leader ? 1 : 0);
    log.info({ instance: url, leader }, leader ? 'leading: running health and operations' : 'following');
    if (leader) {
      observer.lead(Date.now());
      void keeper
        .reconcile()
        .catch((e) => log.error({ err: e.message }, 'reconcile failed'))
        .then(() => operations.resume());
    } else void operations.stop();
  });
  observer.start();
  autoRestore.start();
  outlier.start();
  rollouts.start();
  // A lone SQLite instance leads at once; wait a moment so the first request is not refused.
  for (let i = 0; i < 20 && !leadership.isLeader && store.kind === 'sqlite'; i++)
    await new Promise((r) => setTimeout(r, 50));

  const reload = () => {
    if (!options.configFile) return;
    const result = reloadConfigFile(options.configFile, config, CONTROL_RESTART_ONLY, log, () => {
      if (!tls) return;
      const server = app.server as unknown as import('node:tls').Server;
      try {
        server.setSecureContext({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) });
      } catch (e) {
        throw new MeridianError('CONFIG_UNREADABLE', `control.tls: ${(e as Error).message}`);
      }
    });
    // Every part holds this one object and reads its settings where it uses them.
    if (result) Object.assign(config, result.config);
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    draining = true;
    closing ??= (async () => {
      observer.stop();
      autoRestore.stop();
      outlier.stop();
      rollouts.stop();
      await operations.stop();
      await leadership?.close();
      stream.close();
      await app.close();
      keeper.close();
      await store.close();
    })();
    return closing;
  };
  return { url, app, context, reload, close };
}
