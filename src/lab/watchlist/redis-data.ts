// Reading the watch list's records straight from a region's Redis (the
// Redis+NATS data setup): what an origin lists and dumps, and what the lab
// reads as a region's final state for the history check. A record is the
// apply script's hash (apply-script.ts): `h` the stamp, `v` the value (absent
// in a tombstone).
import type { Redis } from 'ioredis';

export interface RedisRecord {
  value: string | null;
  stamp: string;
}

/** SCAN's MATCH is a glob: the prefix's own glob characters must match themselves. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/** Every record whose cache key starts with `prefix` (tombstones included), keyed by cache key. */
export async function scanRecords(
  redis: Redis,
  keyPrefix: string,
  prefix: string,
): Promise<Map<string, RedisRecord>> {
  const out = new Map<string, RedisRecord>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${globEscape(keyPrefix + prefix)}*`,
      'COUNT',
      2000,
    );
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.hmget(k, 'h', 'v');
    const rows = (await pipeline.exec()) ?? [];
    rows.forEach(([err, row], i) => {
      const [stamp, value] = (row ?? []) as (string | null)[];
      if (!err && stamp) out.set(keys[i].slice(keyPrefix.length), { stamp, value: value ?? null });
    });
  } while (cursor !== '0');
  return out;
}
