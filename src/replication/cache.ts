// The client library services use: get/set/delete on the region's own Redis.
// Reads are local; a write is applied locally, then its replication event is
// published; the write is acknowledged once both happened.
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { KeyspaceConfig } from '../config/schema/replication.js';
import { isMeridianError, MeridianError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { BatchPublisher } from './batcher.js';
import { MAX_EVENT_BYTES, MAX_KEY_LENGTH, MAX_VALUE_LENGTH, type ReplicationEvent } from './event.js';
import { HybridClock } from './hlc.js';
import { replicationMetrics } from './metrics.js';
import { type CacheStore, storeOf } from './store.js';
import type { ReplicationTransport } from './transport.js';

/** Keys the cache itself uses (lag canaries); always replicated as values. */
export const INTERNAL_PREFIX = '__meridian:';

export interface ReplicatedCacheOptions {
  region: string;
  /** The region's Redis; or give `store` (e.g. a MemoryStore) instead. */
  redis?: Redis;
  store?: CacheStore;
  transport: ReplicationTransport;
  keyPrefix?: string;
  defaultMode?: 'replicate' | 'invalidate';
  keyspaces?: readonly KeyspaceConfig[];
  tombstoneTtlMs?: number;
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
  const { region, transport } = options;
  const log = options.log ?? createLogger('replication');
  const metrics = replicationMetrics(options.registry ?? new Registry());
  const published = metrics.published.labels(region);
  const failures = metrics.publishFailures.labels(region);
  const store = storeOf(options);
  const clock = new HybridClock(region);
  const keyspaces = [...(options.keyspaces ?? [])].sort((a, b) => b.prefix.length - a.prefix.length);
  const defaultMode = options.defaultMode ?? 'replicate';
  const publisher = new BatchPublisher(region, (data) => transport.publish(region, data));

  let lastWarnAt = 0;
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
      const candidate = { ...event, hlc: clock.tick(), at: Date.now() };
      const result = await store.apply(candidate).catch(redisDown(region));
      if (result.outcome === 'foreign') {
        throw new MeridianError('CONFLICT', `${store.keyName(event.key)} holds data the cache did not write`);
      }
      if (result.outcome === 'stale') clock.observe(result.stamp);
      else stamped = candidate;
    }
    if (!stamped) throw new MeridianError('INTERNAL', `write to ${event.key} kept losing to newer stamps`);
    const outgoing: ReplicationEvent =
      stamped.op === 'set' && modeOf(stamped.key) === 'invalidate'
        ? { op: 'inv', key: stamped.key, hlc: stamped.hlc, at: stamped.at }
        : stamped;
    try {
      await publisher.publish(outgoing);
      published.inc();
      return stamped.hlc;
    } catch (err) {
      failures.inc();
      // Every write of a refused batch lands here: log the first of a burst only.
      if (Date.now() - lastWarnAt > 1000) {
        lastWarnAt = Date.now();
        log.warn({ reason: String(err), key: event.key }, 'replication event not accepted by the transport');
      }
      if (isMeridianError(err)) throw err;
      throw new MeridianError('REPLICATION_UNAVAILABLE', undefined, [String(err)], { cause: err });
    }
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

/** A Redis failure as a MeridianError (retryable), keeping the cause. */
const redisDown =
  (region: string) =>
  (err: unknown): never => {
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
