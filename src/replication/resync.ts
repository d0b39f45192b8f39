// Anti-entropy between two regions' Redis, by key ranges: each key falls in
// a range by the hash of its name; both sides digest every range (key and
// stamp of every record, tombstones included), and only the ranges whose
// digests differ are walked again, copying the source's records that are
// newer than the target's. Copies go through the apply script, which keeps
// the newer stamp, so writes that continue during the pass are never undone.
import type { Redis } from 'ioredis';
import { compareHlc } from './hlc.js';
import { RegionStore } from './store.js';

export interface ResyncProgress {
  phase: 'digest' | 'copy';
  /** Keys read so far in this phase (both sides while digesting). */
  scanned: number;
  keysCopied: number;
}

export interface ResyncOptions {
  /** The region that has the records (a Redis, or a RegionStore). */
  from: Redis | { redis: Redis };
  /** The region that missed them. */
  to: Redis | { redis: Redis };
  keyPrefix?: string;
  ranges?: number;
  /** Tombstones copied to the target live this long (replication.tombstoneTtl). */
  tombstoneTtlMs?: number;
  /** Called after each batch of keys read. */
  onProgress?: (p: ResyncProgress) => void;
}

export interface ResyncResult {
  ranges: number;
  rangesDiffering: number;
  keysCopied: number;
  /** Records of differing ranges where the target already had a newer write (it reaches the source by replication). */
  newerInTarget: number;
}

const SCAN_COUNT = 1000;
const redisOf = (x: Redis | { redis: Redis }): Redis => ('redis' in x && x.redis ? x.redis : (x as Redis));

/** FNV-1a, 32 bits: cheap and spreads key names evenly over ranges. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export const rangeOf = (key: string, ranges: number) => fnv1a(key) % ranges;

/** Per range: count, xor and sum of a hash of (key, stamp): order-free, so a scan in any order gives the same. */
export class RangeDigests {
  readonly count: Uint32Array;
  readonly xor: Uint32Array;
  readonly sum: Uint32Array;
  constructor(readonly ranges: number) {
    this.count = new Uint32Array(ranges);
    this.xor = new Uint32Array(ranges);
    this.sum = new Uint32Array(ranges);
  }
  add(key: string, stamp: string) {
    const r = rangeOf(key, this.ranges);
    const h = fnv1a(`${key}\u0000${stamp}`, 0x01000193);
    this.count[r] += 1;
    this.xor[r] ^= h;
    this.sum[r] = (this.sum[r] + h) >>> 0;
  }
  /** The ranges where the two differ. */
  differing(other: RangeDigests): Set<number> {
    const out = new Set<number>();
    for (let r = 0; r < this.ranges; r++) {
      if (this.count[r] !== other.count[r] || this.xor[r] !== other.xor[r] || this.sum[r] !== other.sum[r])
        out.add(r);
    }
    return out;
  }
}

/** One SCAN step over the cache records under the prefix: [key without prefix, fields...]. Other data is skipped. */
export async function recordsPage(
  redis: Redis,
  keyPrefix: string,
  fields: string[],
  cursor: string,
  count = SCAN_COUNT,
) {
  const pattern = `${keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', count);
  const batch: { key: string; values: (string | null)[] }[] = [];
  if (keys.length === 0) return { next, batch };
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hmget(key, ...fields);
  const rows = (await pipeline.exec()) ?? [];
  keys.forEach((key, i) => {
    const [err, values] = rows[i] ?? [];
    // Not a hash (the outbox, a gap flag, someone else's data), or no stamp: not a cache record.
    if (!err && Array.isArray(values) && values[0] !== null)
      batch.push({ key: key.slice(keyPrefix.length), values: values as (string | null)[] });
  });
  return { next, batch };
}

/** Every cache record under the prefix, a batch at a time. */
export async function* records(redis: Redis, keyPrefix: string, fields: string[]) {
  let cursor = '0';
  do {
    const page = await recordsPage(redis, keyPrefix, fields, cursor);
    cursor = page.next;
    if (page.batch.length > 0) yield page.batch;
  } while (cursor !== '0');
}

export async function digest(
  redis: Redis,
  keyPrefix: string,
  ranges: number,
  seen: () => void,
  count: (n: number) => void,
  include: (key: string) => boolean = () => true,
) {
  const digests = new RangeDigests(ranges);
  for await (const batch of records(redis, keyPrefix, ['h'])) {
    for (const { key, values } of batch) if (include(key)) digests.add(key, values[0]!);
    count(batch.length);
    seen();
  }
  return digests;
}

/** Absolute expiry of each key in ms (PEXPIRETIME, Redis 7; PTTL before it), undefined when none. */
export async function expiries(redis: Redis, keys: string[]): Promise<(number | undefined)[]> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.call('PEXPIRETIME', key).pttl(key);
  const rows = (await pipeline.exec()) ?? [];
  const now = Date.now();
  return keys.map((_, i) => {
    const [err, at] = rows[2 * i] ?? [];
    if (!err && typeof at === 'number') return at > 0 ? at : undefined;
    const ttl = rows[2 * i + 1]?.[1];
    return typeof ttl === 'number' && ttl > 0 ? now + ttl : undefined;
  });
}

export async function resync(options: ResyncOptions): Promise<ResyncResult> {
  const keyPrefix = options.keyPrefix ?? 'mc:';
  const ranges = options.ranges ?? 256;
  const from = redisOf(options.from);
  const to = redisOf(options.to);
  const progress: ResyncProgress = { phase: 'digest', scanned: 0, keysCopied: 0 };
  const report = () => options.onProgress?.({ ...progress });
  const count = (n: number) => {
    progress.scanned += n;
  };

  const [source, target] = await Promise.all([
    digest(from, keyPrefix, ranges, report, count),
    digest(to, keyPrefix, ranges, report, count),
  ]);
  const differing = source.differing(target);
  const result: ResyncResult = { ranges, rangesDiffering: differing.size, keysCopied: 0, newerInTarget: 0 };
  if (differing.size === 0) return result;

  const store = new RegionStore(to, { keyPrefix, tombstoneTtlMs: options.tombstoneTtlMs ?? 600_000 });
  progress.phase = 'copy';
  progress.scanned = 0;
  for await (const batch of records(from, keyPrefix, ['h', 'v'])) {
    progress.scanned += batch.length;
    const wanted = batch.filter(({ key }) => differing.has(rangeOf(key, ranges)));
    if (wanted.length > 0) {
      const theirs = await to.pipeline(wanted.map(({ key }) => ['hget', keyPrefix + key, 'h'])).exec();
      const newer = wanted.filter(({ values }, i) => {
        const [err, stamp] = theirs?.[i] ?? [];
        if (err || stamp === null || stamp === undefined) return !err;
        const order = compareHlc(values[0]!, String(stamp));
        if (order < 0) result.newerInTarget++;
        return order > 0;
      });
      const expireAts = await expiries(
        from,
        newer.map(({ key }) => keyPrefix + key),
      );
      const at = Date.now();
      const outcomes = await Promise.all(
        newer.map(({ key, values: [hlc, value] }, i) =>
          store.apply(
            value === null
              ? { op: 'del', key, hlc: hlc!, at }
              : { op: 'set', key, value, hlc: hlc!, at, expireAt: expireAts[i] },
          ),
        ),
      );
      for (const o of outcomes) if (o.outcome === 'applied') result.keysCopied++;
    }
    progress.keysCopied = result.keysCopied;
    report();
  }
  return result;
}
