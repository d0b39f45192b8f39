// Everything one region runs, built from meridian.yaml: its cache client,
// its shipper (its outbox to the transport), its relay (the other regions'
// writes into its Redis) and its lag probe.
// The lab and the CLI call this; libraries may assemble the pieces themselves.
import { Redis } from 'ioredis';
import type { NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import type { ReplicationConfig } from '../config/schema/replication.js';
import { MeridianError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { type AntiEntropy, startAntiEntropy } from './anti-entropy/scheduler.js';
import { createReplicatedCache, type ReplicatedCache } from './cache.js';
import { connectNatsTransport } from './nats-transport.js';
import { type LagProbe, startLagProbe } from './probe.js';
import { type Relay, startRelay } from './relay.js';
import {
  type ReplicationRetention,
  type RetentionMonitor,
  retentionCheckIntervalMs,
  startRetentionMonitor,
} from './retention.js';
import { type Shipper, startShipper } from './shipper.js';
import type { ReplicationTransport } from './transport.js';

/**
 * Secrets kept out of meridian.yaml (the CLI reads them from flags, files or
 * the environment: src/cli/replication.ts); each overrides what a URL carries.
 */
export interface ReplicationCredentials {
  /** AUTH password of this region's Redis. */
  redisPassword?: string;
  /** NATS: a token, or a user and password. */
  natsToken?: string;
  natsUser?: string;
  natsPassword?: string;
}

const natsAuth = (c: ReplicationCredentials = {}) => ({
  token: c.natsToken,
  user: c.natsUser,
  pass: c.natsPassword,
});

const natsOptions = (
  config: ReplicationConfig,
  credentials: ReplicationCredentials | undefined,
  log: Logger,
) => ({
  servers: config.nats.servers,
  stream: config.nats.stream,
  maxAgeMs: config.nats.maxAge,
  replicas: config.nats.replicas,
  storage: config.nats.storage,
  auth: natsAuth(credentials),
  log,
});

const redisOptions = (c: ReplicationCredentials = {}) => ({
  maxRetriesPerRequest: 3,
  ...(c.redisPassword ? { password: c.redisPassword } : {}),
});

export interface RegionReplicationOptions {
  config: ReplicationConfig;
  region: string;
  /**
   * The transport to use. Required when config.transport is memory (all
   * regions in one process share one createMemoryTransport()); for nats, one
   * is connected from config.nats when absent.
   */
  transport?: ReplicationTransport;
  /** This region's Redis; otherwise connected from config.regions. */
  redis?: Redis;
  registry?: Registry;
  log?: Logger;
  /** Off to run only the cache and relay (tests, benchmarks). */
  probe?: boolean;
  /** Off when another process ships this region's outbox; default on (the lease keeps it to one). */
  ship?: boolean;
  /** This region's clock: a test hook for a region whose clock runs ahead (MERIDIAN_CLOCK_OFFSET_MS). */
  now?: () => number;
  /** Off to skip the retention monitor (headroom and gap flags). */
  retention?: boolean;
  /** Off to run without anti-entropy (it needs the NATS transport). */
  antiEntropy?: boolean;
  credentials?: ReplicationCredentials;
}

export interface RegionReplication {
  cache: ReplicatedCache;
  relay: Relay;
  shipper: Shipper | null;
  /** Replaced when the probe's settings are reloaded (SIGHUP). */
  probe: LagProbe | null;
  /** Retention headroom and gaps of the other regions' streams for this region. */
  retention: RetentionMonitor | null;
  /** Compares records with the peers and copies what replication did not deliver (NATS only). */
  antiEntropy: AntiEntropy | null;
  /** This region's Redis (its status tells readiness). */
  redis: Redis;
  transport: ReplicationTransport;
  close(): Promise<void>;
}

export async function startRegionReplication(options: RegionReplicationOptions): Promise<RegionReplication> {
  const { config, region } = options;
  const log = options.log ?? createLogger('replication');
  const registry = options.registry ?? new Registry();
  const regions = config.regions.map((r) => r.region);
  const own = config.regions.find((r) => r.region === region);
  if (!own && !options.redis) {
    throw new MeridianError('UNKNOWN_REGION', `replication.regions has no entry for region ${region}`, [
      `known: ${regions.join(', ') || '(none)'}`,
    ]);
  }
  let transport = options.transport;
  const ownsTransport = !transport;
  if (!transport) {
    if (config.transport === 'memory') {
      throw new MeridianError(
        'BAD_ARGUMENT',
        'replication.transport is memory: pass the one in-process transport every region shares',
      );
    }
    transport = await connectNatsTransport(natsOptions(config, options.credentials, log));
  }
  const redis = options.redis ?? quietErrors(new Redis(own!.redis, redisOptions(options.credentials)), log);
  const common = {
    region,
    redis,
    transport,
    keyPrefix: config.keyPrefix,
    tombstoneTtlMs: config.tombstoneTtl,
    maxClockOffsetMs: config.maxClockOffset,
    now: options.now,
    registry,
    log,
  };
  const cache = createReplicatedCache({
    ...common,
    defaultMode: config.defaultMode,
    keyspaces: config.keyspaces,
    outboxMaxLength: config.outbox.maxLength,
  });
  const shipper = options.ship === false ? null : startShipper({ ...common, store: cache.store, transport });
  const sources = regions.includes(region) ? regions : [...regions, region];
  const retention =
    options.retention === false
      ? null
      : startRetentionMonitor({
          ...common,
          sources,
          intervalMs: retentionCheckIntervalMs(config.nats.maxAge),
          outbox: { depth: () => cache.store.outboxDepth(), maxLength: config.outbox.maxLength },
        });
  // Before the relay resumes: once it takes messages again, JetStream no longer shows the gap.
  await retention?.check();
  const relay = await startRelay({ ...common, keyspaces: config.keyspaces, sources });
  const probe =
    options.probe === false
      ? null
      : startLagProbe({
          cache,
          regions,
          intervalMs: config.probe.interval,
          pollMs: config.probe.poll,
          registry,
          log,
          now: options.now,
        });
  const connection = (transport as { connection?: NatsConnection }).connection;
  const antiEntropy =
    options.antiEntropy === false || !connection
      ? null
      : startAntiEntropy({
          region,
          peers: regions.filter((r) => r !== region),
          nc: connection,
          streamPrefix: config.nats.stream,
          redis,
          keyPrefix: config.keyPrefix,
          tombstoneTtlMs: config.tombstoneTtl,
          ranges: config.antiEntropy.ranges,
          intervalMs: config.antiEntropy.interval,
          afterRecovery: config.antiEntropy.afterRecovery,
          lags: () => running.probe?.lags(),
          // A canary is written every probe interval: three missed ones are no jitter.
          disturbedAfterMs: Math.max(3_000, 3 * config.probe.interval),
          registry,
          log,
        });
  const running: RegionReplication = {
    cache,
    relay,
    shipper,
    probe,
    retention,
    antiEntropy,
    redis,
    transport,
    async close() {
      antiEntropy?.close();
      running.probe?.close();
      retention?.close();
      await relay.close();
      await shipper?.close();
      if (ownsTransport) await transport.close();
      if (!options.redis) redis.disconnect();
    },
  };
  return running;
}

export interface RegionLagProbe {
  maxLagMs(): number | null;
  lags(): Map<string, number | null>;
  /** The worst retention headroom into the region, for the edge's report. */
  retention(): ReplicationRetention | null;
  close(): Promise<void>;
}

/**
 * Only the lag probe of a region (canary writes and reads, no relay), for a
 * process that reports lag but does not move data: the edge. null when the
 * config does not list the region under replication.regions.
 */
export async function startRegionLagProbe(options: {
  config: ReplicationConfig;
  region: string;
  registry?: Registry;
  log?: Logger;
  credentials?: ReplicationCredentials;
}): Promise<RegionLagProbe | null> {
  const { config, region } = options;
  const own = config.regions.find((r) => r.region === region);
  if (!own || config.transport !== 'nats') return null;
  const log = options.log ?? createLogger('replication');
  const transport = await connectNatsTransport(natsOptions(config, options.credentials, log));
  const redis = new Redis(own.redis, redisOptions(options.credentials));
  quietErrors(redis, log);
  const cache = createReplicatedCache({
    region,
    redis,
    keyPrefix: config.keyPrefix,
    tombstoneTtlMs: config.tombstoneTtl,
    outboxMaxLength: config.outbox.maxLength,
    maxClockOffsetMs: config.maxClockOffset,
    registry: options.registry,
    log,
  });
  // The canaries go through the outbox like any write; the region's
  // `meridian replication` ships it, and so can this process (one holds the lease).
  const shipper = startShipper({ region, store: cache.store, transport, registry: options.registry, log });
  const probe = startLagProbe({
    cache,
    regions: config.regions.map((r) => r.region),
    intervalMs: config.probe.interval,
    pollMs: config.probe.poll,
    registry: options.registry,
    log,
  });
  const retention = startRetentionMonitor({
    region,
    sources: config.regions.map((r) => r.region),
    transport,
    redis,
    keyPrefix: config.keyPrefix,
    intervalMs: retentionCheckIntervalMs(config.nats.maxAge),
    registry: options.registry,
    log,
  });
  return {
    maxLagMs: () => probe.maxLagMs(),
    lags: () => probe.lags(),
    retention: () => retention.summary(),
    async close() {
      retention.close();
      probe.close();
      await shipper.close();
      await transport.close();
      redis.disconnect();
    },
  };
}

/** ioredis prints every failed reconnect unless someone listens: log once a minute instead. */
function quietErrors(redis: Redis, log: Logger): Redis {
  let lastAt = 0;
  redis.on('error', (err) => {
    if (Date.now() - lastAt < 60_000) return;
    lastAt = Date.now();
    log.warn({ reason: String(err) }, 'replication cannot reach its Redis; retrying');
  });
  return redis;
}
