// The cache's store in process memory, for regions that run without a Redis
// (the lab's embedded sample service, tests). The same rules as the Redis
// apply script (apply-script.ts): an event wins only with a newer stamp,
// deletes/invalidations and already-expired sets leave tombstones that
// expire after the tombstone TTL, a set with expireAt expires then.
import { encodeEvent, type ReplicationEvent } from './event.js';
import { compareHlc } from './hlc.js';
import {
  type ApplyResult,
  type CacheStore,
  DEFAULT_OUTBOX_MAX_LENGTH,
  type OutboxEntry,
  outboxFull,
} from './store.js';

export interface MemoryStoreOptions {
  tombstoneTtlMs?: number;
  /** The store's clock (Redis uses its own TIME); for tests. */
  now?: () => number;
  /** Outbox entries at most; default 1,000,000. */
  outboxMaxLength?: number;
}

interface MemoryOutboxEntry extends OutboxEntry {
  /** Position in the outbox since the store was made: ids compare by it. */
  n: number;
  at: number;
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
  /** The outbox: it lives and dies with the process, like the rest of this store. */
  private outbox: MemoryOutboxEntry[] = [];
  private outboxSeq = 0;
  private readonly outboxMaxLength: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? 600_000;
    this.now = options.now ?? Date.now;
    this.outboxMaxLength = options.outboxMaxLength ?? DEFAULT_OUTBOX_MAX_LENGTH;
  }

  async write(event: ReplicationEvent, outgoing: ReplicationEvent): Promise<ApplyResult> {
    const cur = this.live(event.key, this.now());
    const wins = !cur || (cur.stamp !== event.hlc && compareHlc(event.hlc, cur.stamp) > 0);
    if (wins && this.outbox.length >= this.outboxMaxLength) {
      throw outboxFull('this in-memory store', this.outboxMaxLength);
    }
    const result = this.applySync(event);
    if (result.outcome === 'applied') {
      const n = ++this.outboxSeq;
      const at = this.now();
      this.outbox.push({ id: `${at}-${n}`, n, at, encoded: Buffer.from(encodeEvent(outgoing)), events: 1 });
    }
    return result;
  }

  async readOutbox(afterId: string, max: number): Promise<OutboxEntry[]> {
    const after = sequenceOf(afterId);
    const out: OutboxEntry[] = [];
    for (const e of this.outbox) {
      if (e.n <= after) continue;
      out.push({ id: e.id, encoded: e.encoded, events: e.events });
      if (out.length >= max) break;
    }
    return out;
  }

  async trimOutbox(uptoId: string): Promise<void> {
    const upto = sequenceOf(uptoId);
    const keep = this.outbox.findIndex((e) => e.n > upto);
    this.outbox = keep < 0 ? [] : this.outbox.slice(keep);
  }

  async outboxDepth(): Promise<number> {
    return this.outbox.length;
  }

  async outboxOldestAgeMs(): Promise<number | null> {
    const first = this.outbox[0];
    return first ? Math.max(0, this.now() - first.at) : null;
  }

  keyName(key: string): string {
    return `in-memory key ${key}`;
  }

  async apply(e: ReplicationEvent): Promise<ApplyResult> {
    return this.applySync(e);
  }

  async applyAll(events: readonly ReplicationEvent[]): Promise<ApplyResult[]> {
    return events.map((e) => this.applySync(e));
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

/** The sequence of a memory outbox id (`${ms}-${n}`); '0-0' is before the first. */
function sequenceOf(id: string): number {
  return Number(id.split('-')[1] ?? 0);
}
