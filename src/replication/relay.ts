// The relay of one region: takes the other regions' replication messages from
// the transport and applies them to this region's Redis. A message is taken
// (acknowledged) only after all its events are in Redis, so a relay that
// stops or crashes loses nothing: the next one resumes from the durable cursor.
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { isMeridianError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { decodeBatch, type ReplicationEvent } from './event.js';
import { replicationMetrics } from './metrics.js';
import { type ApplyOutcome, type CacheStore, storeOf } from './store.js';
import type { ReplicationTransport, TransportSubscription } from './transport.js';

export interface RelayOptions {
  /** The region this relay writes into. */
  region: string;
  /** Regions whose writes it applies (the region itself is ignored). */
  sources: readonly string[];
  /** This region's Redis; or give `store` (e.g. a MemoryStore) instead. */
  redis?: Redis;
  store?: CacheStore;
  transport: ReplicationTransport;
  keyPrefix?: string;
  tombstoneTtlMs?: number;
  registry?: Registry;
  log?: Logger;
  /** Called after each event was applied (or found already applied, or lost to a newer write). */
  onEvent?: (event: ReplicationEvent, outcome: ApplyOutcome, source: string, appliedAt: number) => void;
}

export interface RelayStats {
  applied: number;
  duplicates: number;
  conflicts: number;
  malformed: number;
}

export interface Relay {
  readonly region: string;
  stats(): RelayStats;
  /** Messages not yet taken, per source region. */
  queueDepths(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { region, transport } = options;
  const log = options.log ?? createLogger('replication');
  const metrics = replicationMetrics(options.registry ?? new Registry());
  const store = storeOf(options);
  const sources = [...new Set(options.sources)].filter((s) => s !== region);
  const stats: RelayStats = { applied: 0, duplicates: 0, conflicts: 0, malformed: 0 };
  const subscriptions: TransportSubscription[] = [];

  for (const source of sources) {
    const m = {
      applied: {
        set: metrics.applied.labels(source, region, 'set'),
        del: metrics.applied.labels(source, region, 'del'),
        inv: metrics.applied.labels(source, region, 'inv'),
      },
      duplicates: metrics.duplicates.labels(source, region),
      conflicts: metrics.conflicts.labels(source, region),
      malformed: metrics.malformed.labels(source, region),
      lag: metrics.lag.labels(source, region),
    };

    const applyOne = async (e: ReplicationEvent) => {
      const { outcome } = await store.apply(e);
      const now = Date.now();
      if (outcome === 'applied') {
        stats.applied++;
        m.applied[e.op].inc();
        m.lag.observe(Math.max(0, now - e.at) / 1000);
      } else if (outcome === 'foreign') {
        stats.malformed++;
        m.malformed.inc();
        log.warn(
          { source, key: e.key },
          'replication event aimed at a Redis key holding other data; not applied',
        );
      } else if (outcome === 'duplicate') {
        stats.duplicates++;
        m.duplicates.inc();
      } else {
        stats.conflicts++;
        m.conflicts.inc();
      }
      options.onEvent?.(e, outcome, source, now);
    };

    const handler = async (data: Uint8Array) => {
      let events: ReplicationEvent[];
      try {
        const batch = decodeBatch(data, source);
        events = batch.events;
        if (batch.rejected.length > 0) {
          stats.malformed += batch.rejected.length;
          m.malformed.inc(batch.rejected.length);
          log.warn({ source, reasons: batch.rejected.slice(0, 5) }, 'malformed replication events rejected');
        }
      } catch (err) {
        if (!isMeridianError(err) || err.code !== 'MALFORMED_EVENT') throw err;
        // Taken (acknowledged) but not applied: a poison message must not block the stream.
        stats.malformed++;
        m.malformed.inc();
        log.warn({ source, reason: err.message }, 'malformed replication message rejected');
        return;
      }
      // Sent together, so ioredis pipelines them; Redis runs them in order.
      await Promise.all(events.map(applyOne));
    };

    subscriptions.push(await transport.subscribe(source, region, handler));
  }

  const queueDepths = async () => {
    const depths = new Map<string, number>();
    for (const source of sources) depths.set(source, await transport.queueDepth(source, region));
    return depths;
  };
  const reportDepths = async () => {
    for (const [source, depth] of await queueDepths())
      metrics.queueDepth.set({ source, destination: region }, depth);
  };
  metrics.depthReporters.add(reportDepths);
  log.info({ region, sources, transport: transport.kind }, 'replication relay started');

  return {
    region,
    stats: () => ({ ...stats }),
    queueDepths,
    async close() {
      metrics.depthReporters.delete(reportDepths);
      await Promise.all(subscriptions.map((s) => s.close()));
    },
  };
}
