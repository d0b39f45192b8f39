// One region's Redis as the cache sees it: reads, and the atomic
// compare-and-apply of writes (local or replicated). Applies requested before
// the microtask queue drains go to Redis as one script call: a relay applying
// a 512-event message, or a service writing in bursts, pays one round trip.
// (A microtask, not setImmediate: an immediate cost milliseconds under load.)
import type { Redis } from 'ioredis';
import { MeridianError } from '../errors.js';
import { APPLY_LUA } from './apply-script.js';
import type { ReplicationEvent } from './event.js';

/** foreign: the Redis key holds data the cache did not write; it was left alone. */
export type ApplyOutcome = 'applied' | 'duplicate' | 'stale' | 'foreign';
const OUTCOMES: Record<string, ApplyOutcome> = {
  '1': 'applied',
  '0': 'duplicate',
  '-1': 'stale',
  '-2': 'foreign',
};

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** applied: the stamp replaced ('' when none); otherwise the stamp stored. */
  stamp: string;
}

/**
 * Where a region's cache lives: Redis (RegionStore, the apply script) or
 * process memory (MemoryStore, for the embedded lab and tests). Both follow
 * the same rules; test/replication-store-conformance.ts holds them to it.
 */
export interface CacheStore {
  /** Compare-and-apply: the event wins only when its stamp is newer than the stored one. */
  apply(event: ReplicationEvent): Promise<ApplyResult>;
  /** The value, or null for a missing, deleted or expired key. */
  get(key: string): Promise<string | null>;
  /** The stamp of the last write to the key (tombstones included), or null. */
  stamp(key: string): Promise<string | null>;
  /** How the key is named where it is stored, for messages. */
  keyName(key: string): string;
}

type ApplyCommand = (...args: (string | number)[]) => Promise<(number | string)[]>;

const COMMAND = 'meridianReplApplyMany';
/** Events per script call: bounds how long one call holds Redis. */
const MAX_BATCH = 256;

export interface RegionStoreOptions {
  keyPrefix: string;
  tombstoneTtlMs: number;
}

interface Queued {
  event: ReplicationEvent;
  resolve: (r: ApplyResult) => void;
  reject: (err: unknown) => void;
}

export class RegionStore implements CacheStore {
  private readonly applyCommand: ApplyCommand;
  private queue: Queued[] = [];

  constructor(
    readonly redis: Redis,
    private readonly options: RegionStoreOptions,
  ) {
    // defineCommand sends EVALSHA and loads the script on NOSCRIPT (after a Redis restart too).
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { lua: APPLY_LUA });
    const command = (redis as unknown as Record<string, ApplyCommand>)[COMMAND];
    this.applyCommand = command.bind(redis);
  }

  redisKey(key: string): string {
    return this.options.keyPrefix + key;
  }

  keyName(key: string): string {
    return `Redis key ${this.redisKey(key)}`;
  }

  apply(event: ReplicationEvent): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (this.queue.length === 1) queueMicrotask(() => this.flush());
      else if (this.queue.length >= MAX_BATCH) this.flush();
    });
  }

  private flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const keys: string[] = [];
    const args: (string | number)[] = [this.options.tombstoneTtlMs];
    for (const { event: e } of batch) {
      keys.push(this.redisKey(e.key));
      args.push(e.hlc, e.op, e.value ?? '', e.expireAt ?? 0);
    }
    this.applyCommand(keys.length, ...keys, ...args).then(
      (out) => {
        batch.forEach((q, i) => {
          q.resolve({ outcome: OUTCOMES[String(out[2 * i])], stamp: String(out[2 * i + 1]) });
        });
      },
      (err) => {
        for (const q of batch) q.reject(err);
      },
    );
  }

  /** The value, or null for a missing, deleted or expired key. */
  get(key: string): Promise<string | null> {
    return this.redis.hget(this.redisKey(key), 'v');
  }

  /** The stamp of the last write to the key (tombstones included), or null. */
  stamp(key: string): Promise<string | null> {
    return this.redis.hget(this.redisKey(key), 'h');
  }
}

/** The store given, or a RegionStore on the Redis given. */
export function storeOf(options: {
  redis?: Redis;
  store?: CacheStore;
  keyPrefix?: string;
  tombstoneTtlMs?: number;
}): CacheStore {
  if (options.store) return options.store;
  if (!options.redis)
    throw new MeridianError('BAD_ARGUMENT', 'the replicated cache needs a redis or a store');
  return new RegionStore(options.redis, {
    keyPrefix: options.keyPrefix ?? 'mc:',
    tombstoneTtlMs: options.tombstoneTtlMs ?? 600_000,
  });
}
