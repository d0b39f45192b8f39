// `meridian replication`: one region's shipper, relay and lag probe as a
// process, with an admin port for /metrics and /meridian/health. Services in
// the region use the library (createReplicatedCache), which writes into the
// region's outbox; this process ships the outbox and moves the other regions'
// writes into the region's Redis.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { loadConfig } from '../config/index.js';
import { reloadConfigFile } from '../config/reload.js';
import { MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import { registerConventions } from '../metrics-conventions.js';
import { startLagProbe } from './probe.js';
import { type ReplicationCredentials, startRegionReplication } from './region.js';

export interface RunReplicationOptions {
  configFile: string;
  region: string;
  /** host:port of the admin server; port 0 picks a free one. */
  admin: string;
  log: Logger;
  credentials?: ReplicationCredentials;
}

export interface ReplicationReadyLine {
  ready: true;
  part: 'replication';
  region: string;
  admin: string;
}

function parseAdmin(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65_535)
    throw new MeridianError('BAD_ARGUMENT', `--admin expects ADDRESS:PORT, got "${text}"`);
  return { host: m[1], port };
}

/** What a running relay cannot change without a restart; replication.probe (and rpo, read by control) apply live. */
export const REPLICATION_RESTART_ONLY = [
  'replication.transport',
  'replication.nats',
  'replication.regions',
  'replication.keyPrefix',
  'replication.defaultMode',
  'replication.keyspaces',
  'replication.tombstoneTtl',
];

export async function runReplication(o: RunReplicationOptions) {
  const { host, port } = parseAdmin(o.admin);
  let config = loadConfig(o.configFile);
  if (config.replication.transport !== 'nats') {
    throw new MeridianError(
      'CONFIG_INVALID',
      'a replication process needs replication.transport: nats (the in-process transport lives inside one process)',
    );
  }
  const registry = new Registry();
  registerConventions(registry, 'replication');
  const repl = await startRegionReplication({
    config: config.replication,
    region: o.region,
    registry,
    log: o.log,
    credentials: o.credentials,
  });
  const health = async () => ({
    region: o.region,
    lagMs: Object.fromEntries(repl.probe?.lags() ?? []),
    maxLagMs: repl.probe?.maxLagMs() ?? null,
    queueDepths: Object.fromEntries(await repl.relay.queueDepths()),
    relay: repl.relay.stats(),
    outbox: { depth: await repl.cache.store.outboxDepth(), ...repl.shipper?.stats() },
    probe: { intervalMs: config.replication.probe.interval, pollMs: config.replication.probe.poll },
  });
  let draining = false;
  // Started means the transport is connected and subscribed; Redis may come and go.
  const readiness = () => {
    if (draining) return { ready: false, draining: true };
    if (repl.redis.status !== 'ready') return { ready: false, waitingFor: ['redis'] };
    return { ready: true };
  };
  const reload = () => {
    const result = reloadConfigFile(o.configFile, config, REPLICATION_RESTART_ONLY, o.log);
    if (!result) return;
    const before = config.replication.probe;
    config = result.config;
    const probe = config.replication.probe;
    if (repl.probe && (probe.interval !== before.interval || probe.poll !== before.poll)) {
      repl.probe.close();
      repl.probe = startLagProbe({
        cache: repl.cache,
        regions: config.replication.regions.map((r) => r.region),
        intervalMs: probe.interval,
        pollMs: probe.poll,
        registry,
        log: o.log,
      });
    }
  };
  const server: Server = createServer((req, res) => {
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const route = async () => {
      if (req.method === 'GET' && req.url === '/metrics')
        return reply(200, registry.contentType, await registry.metrics());
      if (req.method === 'GET' && req.url === '/meridian/health') {
        return reply(200, 'application/json', JSON.stringify(await health()));
      }
      if (req.method === 'GET' && req.url === '/meridian/ready') {
        const ready = readiness();
        return reply(ready.ready ? 200 : 503, 'application/json', JSON.stringify(ready));
      }
      reply(404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND', message: 'not found' } }));
    };
    route().catch((err) =>
      reply(503, 'application/json', JSON.stringify({ error: { message: String(err) } })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (e) => o.log.warn({ err: e.message }, 'admin listener error'));
      resolve();
    });
  }).catch(async (err) => {
    await repl.close();
    throw new MeridianError('LISTEN_FAILED', `cannot listen on ${o.admin}: ${String(err)}`);
  });
  const address = server.address() as AddressInfo;
  const ready: ReplicationReadyLine = {
    ready: true,
    part: 'replication',
    region: o.region,
    admin: `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
  };
  return {
    ready,
    reload,
    async close() {
      draining = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await repl.close();
    },
  };
}
