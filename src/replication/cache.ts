// The client library services use: get/set/delete on the region's own Redis.
// Reads are local; a write is applied locally and its replication event put in
// the region's outbox, both in one script (store.write): the write is
// acknowledged once that script returned. The shipper (shipper.ts) publishes
// the outbox; the cache itself never talks to the transport.
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { KeyspaceConfig } from '../config/schema/replication.js';
import { isMeridianError, MeridianError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { BatchPublisher } from './batcher.js';
import { MAX_EVENT_BYTES, MAX_KEY_LENGTH, MAX_VALUE_LENGTH, type ReplicationEvent } from './event.js';
import { DEFAULT_MAX_CLOCK_OFFSET_MS, HybridClock } from './hlc.js';
import { replicationMetrics } from './metrics.js';
import { type ApplyResult, type CacheStore, storeOf } from './store.js';
import type { ReplicationTransport } from './transport.js';

/** Keys the cache itself uses (lag canaries); always replicated as values. */
export const INTERNAL_PREFIX = '__meridian:';

export interface ReplicatedCacheOptions {
  region: string;
  /** The region's Redis; or give `store` (e.g. a MemoryStore) instead. */
  redis?: Redis;
  store?: CacheStore;
  /** Only for delivery 'unsafe-ack-before-publish'; the outbox's shipper publishes otherwise. */
  transport?: ReplicationTransport;
  /**
   * outbox (default): acknowledged means in Redis with its outgoing event.
   * 'unsafe-ack-before-publish' is for tests only (the checker must see it
   * lose writes): applied locally, acknowledged, published later from a
   * queue in this process, so a crash loses what is queued.
   */
  delivery?: 'outbox' | 'unsafe-ack-before-publish';
  /** Outbox entries at most (a RegionStore made here); see replication.outbox.maxLength. */
  outboxMaxLength?: number;
  keyPrefix?: string;
  defaultMode?: 'replicate' | 'invalidate';
  keyspaces?: readonly KeyspaceConfig[];
  tombstoneTtlMs?: number;
  /**
   * How far (ms) this region's clock may run ahead of its peers' before its
   * stamps are clamped to peers' time + this (once the lag probe measured it). Default 500.
   */
  maxClockOffsetMs?: number;
  /** This region's clock. A test hook: a region whose clock runs ahead (MERIDIAN_CLOCK_OFFSET_MS). */
  now?: () => number;
  registry?: Registry;
  log?: Logger;
}

export interface SetOptions {
  /** Time to live in ms; the key expires at the same moment in every region. */
  ttlMs?: number;
}

export interface ReplicatedCache {
  readonly region: string;
  readonly store: CacheStore;
  readonly clock: HybridClock;
  get(key: string): Promise<string | null>;
  /** Resolves with the write's HLC stamp once it is acknowledged. */
  set(key: string, value: string, options?: SetOptions): Promise<string>;
  /** Resolves with the delete's HLC stamp once it is acknowledged. */
  delete(key: string): Promise<string>;
  /** Which mode applies to a key (longest matching keyspace prefix). */
  modeOf(key: string): 'replicate' | 'invalidate';
}

export function createReplicatedCache(options: ReplicatedCacheOptions): ReplicatedCache {
  const { region } = options;
  const log = options.log ?? createLogger('replication');
  const store = storeOf(options);
  const now = options.now ?? Date.now;
  const clamped = replicationMetrics(options.registry ?? new Registry()).clockClamped.labels(region);
  const clock = new HybridClock(region, now, {
    maxOffsetMs: options.maxClockOffsetMs ?? DEFAULT_MAX_CLOCK_OFFSET_MS,
    onClamp: () => clamped.inc(),
  });
  const keyspaces = [...(options.keyspaces ?? [])].sort((a, b) => b.prefix.length - a.prefix.length);
  const defaultMode = options.defaultMode ?? 'replicate';
  const unsafe =
    options.delivery === 'unsafe-ack-before-publish'
      ? unsafeQueue(region, options.transport, options.registry, log)
      : null;

  const modeOf = (key: string) => {
    if (key.startsWith(INTERNAL_PREFIX)) return 'replicate';
    return keyspaces.find((k) => key.startsWith(k.prefix))?.mode ?? defaultMode;
  };

  async function write(event: Omit<ReplicationEvent, 'hlc' | 'at'>): Promise<string> {
    checkKey(event.key);
    let stamped: ReplicationEvent | null = null;
    // A newer stamp already stored means another region's clock runs ahead of
    // ours: take its stamp in (HLC receive) and stamp again, so this write wins.
    for (let attempt = 0; attempt < 3 && !stamped; attempt++) {
      // One object shape for every write, built without a spread: this runs once per write.
      const candidate: ReplicationEvent = {
        op: event.op,
        key: event.key,
        value: event.value,
        expireAt: event.expireAt,
        hlc: clock.tick(),
        at: now(),
      };
      let result: ApplyResult;
      try {
        result = await (unsafe ? store.apply(candidate) : store.write(candidate, outgoingOf(candidate)));
      } catch (err) {
        return redisDown(region)(err);
      }
      if (result.outcome === 'foreign') {
        throw new MeridianError('CONFLICT', `${store.keyName(event.key)} holds data the cache did not write`);
      }
      if (result.outcome === 'stale') clock.observe(result.stamp);
      else stamped = candidate;
    }
    if (!stamped) throw new MeridianError('INTERNAL', `write to ${event.key} kept losing to newer stamps`);
    unsafe?.(outgoingOf(stamped));
    return stamped.hlc;
  }

  /** What other regions get: in invalidate mode a set travels as an invalidation. */
  function outgoingOf(e: ReplicationEvent): ReplicationEvent {
    return e.op === 'set' && modeOf(e.key) === 'invalidate'
      ? { op: 'inv', key: e.key, hlc: e.hlc, at: e.at }
      : e;
  }

  return {
    region,
    store,
    clock,
    modeOf,
    async get(key) {
      checkKey(key);
      return store.get(key).catch(redisDown(region));
    },
    set(key, value, setOptions = {}) {
      if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH || tooBigForTheWire(key, value)) {
        return Promise.reject(
          new MeridianError(
            'BAD_ARGUMENT',
            `value must be a string of at most ${MAX_VALUE_LENGTH} characters (${MAX_EVENT_BYTES} bytes as JSON)`,
          ),
        );
      }
      const ttl = setOptions.ttlMs;
      if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) {
        return Promise.reject(
          new MeridianError('BAD_ARGUMENT', `ttlMs must be a positive number, got ${ttl}`),
        );
      }
      const expireAt = ttl === undefined ? undefined : Math.ceil(Date.now() + ttl);
      return write({ op: 'set', key, value, expireAt });
    },
    delete(key) {
      return write({ op: 'del', key });
    },
  };
}

/**
 * The broken delivery kept for tests: events wait in process memory for a
 * while before they are published, and a refused publish is dropped.
 */
function unsafeQueue(
  region: string,
  transport: ReplicationTransport | undefined,
  registry: Registry | undefined,
  log: Logger,
): (e: ReplicationEvent) => void {
  if (!transport)
    throw new MeridianError('BAD_ARGUMENT', "delivery 'unsafe-ack-before-publish' needs a transport");
  const published = replicationMetrics(registry ?? new Registry()).published.labels(region);
  const publisher = new BatchPublisher(region, (data) => transport.publish(region, data));
  let queued: ReplicationEvent[] = [];
  return (e) => {
    queued.push(e);
    if (queued.length > 1) return;
    setTimeout(() => {
      const taking = queued;
      queued = [];
      for (const event of taking) {
        publisher.publish(event).then(
          () => published.inc(),
          (err) => log.warn({ reason: String(err) }, 'unsafe delivery dropped an event'),
        );
      }
    }, UNSAFE_DELAY_MS);
  };
}

/** How long the unsafe delivery holds acknowledged events in memory. */
const UNSAFE_DELAY_MS = 200;

/** A Redis failure as a MeridianError (retryable), keeping the cause. */
const redisDown =
  (region: string) =>
  (err: unknown): never => {
    if (isMeridianError(err)) throw err;
    throw new MeridianError(
      'UPSTREAM_UNAVAILABLE',
      `the Redis of ${region} did not answer: ${String(err)}`,
      [],
      {
        cause: err,
      },
    );
  };

/** Checked before the local write, so a write that cannot travel is refused whole. */
function tooBigForTheWire(key: string, value: string): boolean {
  // Cheap for small values; only large ones (where escaping can grow them) are measured.
  if (value.length + key.length < 64 * 1024) return false;
  return (
    Buffer.byteLength(JSON.stringify(value)) + Buffer.byteLength(JSON.stringify(key)) + 200 > MAX_EVENT_BYTES
  );
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new MeridianError('BAD_ARGUMENT', `a cache key must be a string of 1-${MAX_KEY_LENGTH} characters`);
  }
}
