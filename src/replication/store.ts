// One region's Redis as the cache sees it: reads, and the atomic
// compare-and-apply of writes (local or replicated). Applies requested before
// the microtask queue drains go to Redis as one script call: a relay applying
// a 512-event message, or a service writing in bursts, pays one round trip.
// (A microtask, not setImmediate: an immediate cost milliseconds under load.)
import type { Redis } from 'ioredis';
import { MeridianError } from '../errors.js';
import { APPLY_LUA } from './apply-script.js';
import { encodeEvent, MAX_BATCH_BYTES, type ReplicationEvent } from './event.js';
import {
  DEPTH_LUA,
  entryEvents,
  nextStreamId,
  outboxCountKey,
  outboxKey,
  TRIM_LUA,
  WRITE_LUA,
} from './outbox-script.js';

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
  /** apply() for each event, in order, with one promise for all (a relay's message). */
  applyAll(events: readonly ReplicationEvent[]): Promise<ApplyResult[]>;
  /** The value, or null for a missing, deleted or expired key. */
  get(key: string): Promise<string | null>;
  /** The stamp of the last write to the key (tombstones included), or null. */
  stamp(key: string): Promise<string | null>;
  /** How the key is named where it is stored, for messages. */
  keyName(key: string): string;
  /**
   * A local write: applies `event` (compare-and-apply) and, only when it
   * wins, appends `outgoing` to the outbox, atomically. Rejects with
   * REPLICATION_UNAVAILABLE (nothing written) when the outbox is full.
   */
  write(event: ReplicationEvent, outgoing: ReplicationEvent): Promise<ApplyResult>;
  /** Outbox entries after `afterId` ('0-0': from the start), oldest first, at most `max` entries. */
  readOutbox(afterId: string, max: number): Promise<OutboxEntry[]>;
  /** Removes the outbox entries up to and including `uptoId`. */
  trimOutbox(uptoId: string): Promise<void>;
  /** Events (not entries) in the outbox. */
  outboxDepth(): Promise<number>;
  /** Age of the oldest outbox entry, or null when the outbox is empty. */
  outboxOldestAgeMs(): Promise<number | null>;
}

/**
 * Outgoing events waiting in the outbox, written by one script call: the
 * entry's stream id, their wire forms (encodeEvent) in UTF-8 joined by ','
 * as joinEncodedEvents joins them, at most MAX_BATCH_BYTES, and how many.
 */
export interface OutboxEntry {
  id: string;
  encoded: Buffer;
  events: number;
}

/** The outbox holds `maxLength` events: the write is refused, not lost. */
export function outboxFull(where: string, maxLength: number): MeridianError {
  return new MeridianError(
    'REPLICATION_UNAVAILABLE',
    `the replication outbox of ${where} is full (${maxLength} events, replication.outbox.maxLength); the write was not made`,
    ['the shipper is not draining it: is NATS reachable?'],
  );
}

type ApplyCommand = (...args: (string | number)[]) => Promise<(number | string)[]>;

const COMMAND = 'meridianReplApplyMany';
const WRITE_COMMAND = 'meridianReplWriteBatched';
const TRIM_COMMAND = 'meridianReplTrimOutbox';
const DEPTH_COMMAND = 'meridianReplOutboxDepth';
/** Events per script call: bounds how long one call holds Redis. */
const MAX_BATCH = 256;

export interface RegionStoreOptions {
  keyPrefix: string;
  tombstoneTtlMs: number;
  /** Outbox entries at most; default 1,000,000. */
  outboxMaxLength?: number;
}

export const DEFAULT_OUTBOX_MAX_LENGTH = 1_000_000;

interface Queued {
  event: ReplicationEvent;
  /** A local write: the encoded outgoing event. */
  outgoing?: string;
  resolve: (r: ApplyResult) => void;
  reject: (err: unknown) => void;
}

export class RegionStore implements CacheStore {
  private readonly applyCommand: ApplyCommand;
  private readonly writeCommand: ApplyCommand;
  private readonly trimCommand: (...args: string[]) => Promise<number>;
  private readonly depthCommand: (...args: string[]) => Promise<number>;
  private queue: Queued[] = [];
  private writes: Queued[] = [];
  private readonly outbox: string;
  private readonly outboxCount: string;
  private readonly outboxMaxLength: number;

  constructor(
    readonly redis: Redis,
    private readonly options: RegionStoreOptions,
  ) {
    // defineCommand sends EVALSHA and loads the script on NOSCRIPT (after a Redis restart too).
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { lua: APPLY_LUA });
    if (!(WRITE_COMMAND in redis)) redis.defineCommand(WRITE_COMMAND, { lua: WRITE_LUA });
    if (!(TRIM_COMMAND in redis)) redis.defineCommand(TRIM_COMMAND, { lua: TRIM_LUA, numberOfKeys: 2 });
    if (!(DEPTH_COMMAND in redis)) redis.defineCommand(DEPTH_COMMAND, { lua: DEPTH_LUA, numberOfKeys: 2 });
    const commands = redis as unknown as Record<string, ApplyCommand>;
    this.applyCommand = commands[COMMAND].bind(redis);
    this.writeCommand = commands[WRITE_COMMAND].bind(redis);
    const counted = redis as unknown as Record<string, (...args: string[]) => Promise<number>>;
    this.trimCommand = counted[TRIM_COMMAND].bind(redis);
    this.depthCommand = counted[DEPTH_COMMAND].bind(redis);
    this.outbox = outboxKey(options.keyPrefix);
    this.outboxCount = outboxCountKey(options.keyPrefix);
    this.outboxMaxLength = options.outboxMaxLength ?? DEFAULT_OUTBOX_MAX_LENGTH;
  }

  get keyPrefix(): string {
    return this.options.keyPrefix;
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

  write(event: ReplicationEvent, outgoing: ReplicationEvent): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      this.writes.push({ event, outgoing: encodeEvent(outgoing), resolve, reject });
      if (this.writes.length === 1) queueMicrotask(() => this.flushWrites());
      else if (this.writes.length >= MAX_BATCH) this.flushWrites();
    });
  }

  async applyAll(events: readonly ReplicationEvent[]): Promise<ApplyResult[]> {
    const calls: Promise<ApplyResult[]>[] = [];
    for (let i = 0; i < events.length; i += MAX_BATCH)
      calls.push(this.applyBatch(events.slice(i, i + MAX_BATCH)));
    return (await Promise.all(calls)).flat();
  }

  private flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.applyBatch(batch.map((q) => q.event)).then(
      (results) => {
        for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
      },
      (err) => {
        for (const q of batch) q.reject(err);
      },
    );
  }

  /** One script call for at most MAX_BATCH events. */
  private async applyBatch(events: readonly ReplicationEvent[]): Promise<ApplyResult[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.options.tombstoneTtlMs];
    for (const e of events) {
      keys.push(this.redisKey(e.key));
      args.push(e.hlc, e.op, e.value ?? '', e.expireAt ?? 0);
    }
    const out = await this.applyCommand(keys.length, ...keys, ...args);
    return events.map((_, i) => ({ outcome: OUTCOMES[String(out[2 * i])], stamp: String(out[2 * i + 1]) }));
  }

  private flushWrites(): void {
    const batch = this.writes;
    if (batch.length === 0) return;
    this.writes = [];
    const keys: string[] = [this.outbox, this.outboxCount];
    const args: (string | number)[] = [this.options.tombstoneTtlMs, this.outboxMaxLength, MAX_BATCH_BYTES];
    for (const { event: e, outgoing } of batch) {
      keys.push(this.redisKey(e.key));
      args.push(e.hlc, e.op, e.value ?? '', e.expireAt ?? 0, outgoing ?? '');
    }
    this.settle(batch, this.writeCommand(keys.length, ...keys, ...args));
  }

  private settle(batch: Queued[], reply: Promise<(number | string)[]>): void {
    reply.then(
      (out) => {
        batch.forEach((q, i) => {
          const code = String(out[2 * i]);
          if (code === '-3') q.reject(outboxFull(`Redis key ${this.outbox}`, this.outboxMaxLength));
          else q.resolve({ outcome: OUTCOMES[code], stamp: String(out[2 * i + 1]) });
        });
      },
      (err) => {
        for (const q of batch) q.reject(err);
      },
    );
  }

  async readOutbox(afterId: string, max: number): Promise<OutboxEntry[]> {
    const rows = await this.redis.xrangeBuffer(this.outbox, `(${afterId}`, '+', 'COUNT', max);
    return rows.map(([id, fields]) => ({ id: id.toString(), ...entryEvents(fields) }));
  }

  async trimOutbox(uptoId: string): Promise<void> {
    await this.trimCommand(this.outbox, this.outboxCount, uptoId, nextStreamId(uptoId));
  }

  async outboxDepth(): Promise<number> {
    return Number(await this.depthCommand(this.outbox, this.outboxCount));
  }

  async outboxOldestAgeMs(): Promise<number | null> {
    const [first] = await this.redis.xrange(this.outbox, '-', '+', 'COUNT', 1);
    if (!first) return null;
    return Math.max(0, Date.now() - Number(first[0].split('-')[0]));
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
  outboxMaxLength?: number;
}): CacheStore {
  if (options.store) return options.store;
  if (!options.redis)
    throw new MeridianError('BAD_ARGUMENT', 'the replicated cache needs a redis or a store');
  return new RegionStore(options.redis, {
    keyPrefix: options.keyPrefix ?? 'mc:',
    tombstoneTtlMs: options.tombstoneTtlMs ?? 600_000,
    outboxMaxLength: options.outboxMaxLength,
  });
}
