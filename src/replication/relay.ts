// The relay of one region: takes the other regions' replication messages from
// the transport and applies them to this region's Redis. A message is taken
// (acknowledged) only after all its events are in Redis, so a relay that
// stops or crashes loses nothing: the next one resumes from the durable cursor.
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { KeyspaceConfig } from '../config/schema/replication.js';
import { isMeridianError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { INTERNAL_PREFIX } from './cache.js';
import { decodeBatch, type ReplicationEvent } from './event.js';
import { DEFAULT_MAX_CLOCK_OFFSET_MS, wallOfHlc } from './hlc.js';
import { replicationMetrics } from './metrics.js';
import { type ApplyOutcome, type CacheStore, storeOf } from './store.js';
import { type TopKey, TopKeys } from './top-keys.js';
import { type ReplicationTransport, RetryLater, type TransportSubscription } from './transport.js';

/** A held message is looked at again at least this often (the local clock may be stepped meanwhile). */
const HOLD_RECHECK_MS = 1000;
/** Quiet this long after a hold, the next hold starts a new burst (and logs again). */
const HOLD_BURST_GAP_MS = 5000;

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
  /** Keyspaces of the config: the `keyspace` label of the conflicts metric (longest matching prefix, else default). */
  keyspaces?: readonly KeyspaceConfig[];
  /**
   * An event stamped more than this (ms) ahead of this region's clock is held:
   * not applied, its message comes again once the clock caught up. Default 500.
   */
  maxClockOffsetMs?: number;
  /** This region's clock (tests: a region whose clock runs ahead). */
  now?: () => number;
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
  /** Holds of events stamped too far ahead (an event held across redeliveries counts once). */
  clockAhead: number;
}

export interface Relay {
  readonly region: string;
  stats(): RelayStats;
  /** The keys whose replicated events lost most often to a newer write (space-saving estimate). */
  conflictTopKeys(n?: number): TopKey[];
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
  const stats: RelayStats = { applied: 0, duplicates: 0, conflicts: 0, malformed: 0, clockAhead: 0 };
  const subscriptions: TransportSubscription[] = [];
  const now = options.now ?? Date.now;
  const maxOffsetMs = options.maxClockOffsetMs ?? DEFAULT_MAX_CLOCK_OFFSET_MS;
  const keyspaceOf = keyspaceLabeller(options.keyspaces ?? []);
  const topKeys = new TopKeys();

  for (const source of sources) {
    const m = {
      applied: {
        set: metrics.applied.labels(source, region, 'set'),
        del: metrics.applied.labels(source, region, 'del'),
        inv: metrics.applied.labels(source, region, 'inv'),
      },
      duplicates: metrics.duplicates.labels(source, region),
      clockAhead: metrics.clockAhead.labels(source, region),
      malformed: metrics.malformed.labels(source, region),
      lag: metrics.lag.labels(source, region),
    };

    // A message's events go to the store together (one script call per 256) and are
    // counted per message: a promise and a labelled counter per event cost the relay
    // more than applying the event.
    const applyAll = async (events: ReplicationEvent[]) => {
      const results = await store.applyAll(events);
      const appliedAt = now();
      const applied = { set: 0, del: 0, inv: 0 };
      let duplicates = 0;
      events.forEach((e, i) => {
        const { outcome } = results[i];
        if (outcome === 'applied') {
          applied[e.op]++;
          m.lag.observe(Math.max(0, appliedAt - e.at) / 1000);
        } else if (outcome === 'duplicate') duplicates++;
        else notApplied(e, outcome);
        options.onEvent?.(e, outcome, source, appliedAt);
      });
      for (const op of ['set', 'del', 'inv'] as const) {
        if (applied[op] === 0) continue;
        stats.applied += applied[op];
        m.applied[op].inc(applied[op]);
      }
      if (duplicates > 0) {
        stats.duplicates += duplicates;
        m.duplicates.inc(duplicates);
      }
    };
    const notApplied = (e: ReplicationEvent, outcome: ApplyOutcome) => {
      if (outcome === 'foreign') {
        stats.malformed++;
        m.malformed.inc();
        log.warn(
          { source, key: e.key },
          'replication event aimed at a Redis key holding other data; not applied',
        );
      } else {
        stats.conflicts++;
        metrics.conflicts.inc({ source, destination: region, keyspace: keyspaceOf(e.key) });
        topKeys.add(e.key);
      }
    };

    const hold = holdTracker();
    /** Events of the message stamped too far ahead of this region's clock; the rest may be applied now. */
    const tooFarAhead = (events: ReplicationEvent[]) => {
      const limit = now() + maxOffsetMs;
      // Canaries are exempt: only their own region writes them (they win no conflict),
      // and the lag probe measures the clock offset from their arrival time.
      return events.filter((e) => !e.key.startsWith(INTERNAL_PREFIX) && wallOf(e) > limit);
    };
    const holdBack = (held: ReplicationEvent[]): never => {
      const at = now();
      const furthest = Math.max(...held.map(wallOf));
      const fresh = hold.add(held);
      stats.clockAhead += fresh;
      m.clockAhead.inc(fresh);
      if (hold.startsBurst(at)) {
        log.warn(
          { source, aheadMs: furthest - at, maxClockOffsetMs: maxOffsetMs, held: held.length },
          'replication events stamped too far ahead of this clock are held until it catches up',
        );
      }
      const waitMs = Math.min(HOLD_RECHECK_MS, Math.max(1, furthest - maxOffsetMs - at + 1));
      throw new RetryLater(waitMs, `${held.length} events of ${source} stamped ${furthest - at} ms ahead`);
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
      const held = tooFarAhead(events);
      // The others of a held message are applied now and are duplicates when it comes again.
      const heldSet = new Set(held);
      const ready = held.length === 0 ? events : events.filter((e) => !heldSet.has(e));
      if (ready.length > 0) await applyAll(ready);
      if (held.length > 0) holdBack(held);
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
    conflictTopKeys: (n = 20) => topKeys.top(n),
    queueDepths,
    async close() {
      metrics.depthReporters.delete(reportDepths);
      await Promise.all(subscriptions.map((s) => s.close()));
    },
  };
}

/** decodeBatch checked every stamp against HLC_PATTERN: the wall is its first 15 digits. */
const wallOf = (e: ReplicationEvent) => wallOfHlc(e.hlc);

/** The `keyspace` label of a key: its longest matching configured prefix, or default (bounded by the config). */
function keyspaceLabeller(keyspaces: readonly KeyspaceConfig[]): (key: string) => string {
  const prefixes = keyspaces.map((k) => k.prefix).sort((a, b) => b.length - a.length);
  return (key) => prefixes.find((p) => key.startsWith(p)) ?? 'default';
}

/** Which held events were counted already (redeliveries count once), and when a burst of holds starts. */
function holdTracker() {
  const seen = new Set<string>();
  let lastHoldAt = Number.NEGATIVE_INFINITY;
  return {
    add(events: ReplicationEvent[]): number {
      let fresh = 0;
      for (const e of events) {
        const id = `${e.hlc}\n${e.key}`;
        if (seen.has(id)) continue;
        fresh++;
        seen.add(id);
        // Bounded: forget the oldest (Sets iterate in insertion order).
        if (seen.size > 10_000) seen.delete(seen.values().next().value as string);
      }
      return fresh;
    },
    startsBurst(at: number): boolean {
      const starts = at - lastHoldAt > HOLD_BURST_GAP_MS;
      lastHoldAt = at;
      return starts;
    },
  };
}
