// The cache's store in process memory, for regions that run without a Redis
// (the lab's embedded sample service, tests). The same rules as the Redis
// apply script (apply-script.ts): an event wins only with a newer stamp,
// deletes/invalidations and already-expired sets leave tombstones that
// expire after the tombstone TTL, a set with expireAt expires then.
import type { ReplicationEvent } from './event.js';
import { compareHlc } from './hlc.js';
import type { ApplyResult, CacheStore } from './store.js';

export interface MemoryStoreOptions {
  tombstoneTtlMs?: number;
  /** The store's clock (Redis uses its own TIME); for tests. */
  now?: () => number;
}

export interface StoredRecord {
  /** Stamp of the last write. */
  stamp: string;
  /** null: a tombstone. */
  value: string | null;
  /** Absolute expiry in ms, or null. */
  expireAt: number | null;
}

// Expired as Redis counts it: after the expiry millisecond, not at it.
/** Expired records are dropped when touched, and all at once every this many applies. */
const SWEEP_EVERY = 10_000;

export class MemoryStore implements CacheStore {
  private readonly records = new Map<string, StoredRecord>();
  private readonly tombstoneTtlMs: number;
  private readonly now: () => number;
  private appliesSinceSweep = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? 600_000;
    this.now = options.now ?? Date.now;
  }

  keyName(key: string): string {
    return `in-memory key ${key}`;
  }

  async apply(e: ReplicationEvent): Promise<ApplyResult> {
    return this.applySync(e);
  }

  applySync(e: ReplicationEvent): ApplyResult {
    if (++this.appliesSinceSweep >= SWEEP_EVERY) this.sweep();
    const now = this.now();
    const cur = this.live(e.key, now);
    if (cur && cur.stamp === e.hlc) return { outcome: 'duplicate', stamp: cur.stamp };
    if (cur && compareHlc(e.hlc, cur.stamp) <= 0) return { outcome: 'stale', stamp: cur.stamp };
    const exp = e.expireAt ?? 0;
    if (e.op !== 'set' || (exp > 0 && exp <= now)) {
      this.records.set(e.key, { stamp: e.hlc, value: null, expireAt: now + this.tombstoneTtlMs });
    } else {
      this.records.set(e.key, { stamp: e.hlc, value: e.value ?? '', expireAt: exp > 0 ? exp : null });
    }
    return { outcome: 'applied', stamp: cur?.stamp ?? '' };
  }

  async get(key: string): Promise<string | null> {
    return this.live(key, this.now())?.value ?? null;
  }

  async stamp(key: string): Promise<string | null> {
    return this.live(key, this.now())?.stamp ?? null;
  }

  /** Every live record (tombstones included) whose key starts with prefix. */
  *scan(prefix = ''): Generator<[string, StoredRecord]> {
    const now = this.now();
    for (const [key, record] of this.records) {
      if (!key.startsWith(prefix)) continue;
      if (record.expireAt !== null && now > record.expireAt) continue;
      yield [key, record];
    }
  }

  /** Live records, tombstones included. */
  get size(): number {
    this.sweep();
    return this.records.size;
  }

  private live(key: string, now: number): StoredRecord | undefined {
    const record = this.records.get(key);
    if (record && record.expireAt !== null && now > record.expireAt) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  private sweep(): void {
    this.appliesSinceSweep = 0;
    const now = this.now();
    for (const [key, record] of this.records) {
      if (record.expireAt !== null && now > record.expireAt) this.records.delete(key);
    }
  }
}
