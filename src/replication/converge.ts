// Are two regions' caches the same? Compares every key (tombstones included)
// by stamp and value. For tests, the lab's split-brain check and operators.
import type { Redis } from 'ioredis';

export interface RegionDiff {
  keys: number;
  onlyInA: string[];
  onlyInB: string[];
  different: string[];
}

async function snapshot(redis: Redis, keyPrefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(keyPrefix)}*`, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.hmget(key, 'h', 'v');
    const rows = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const [err, fields] = rows[i] ?? [];
      if (!err && Array.isArray(fields) && fields[0] !== null) {
        out.set(key.slice(keyPrefix.length), JSON.stringify(fields));
      }
    });
  } while (cursor !== '0');
  return out;
}

/** Lists at most `limit` keys of each kind; counts are of the keys seen. */
export async function diffRegions(a: Redis, b: Redis, keyPrefix = 'mc:', limit = 20): Promise<RegionDiff> {
  const [left, right] = await Promise.all([snapshot(a, keyPrefix), snapshot(b, keyPrefix)]);
  const diff: RegionDiff = {
    keys: new Set([...left.keys(), ...right.keys()]).size,
    onlyInA: [],
    onlyInB: [],
    different: [],
  };
  for (const [key, row] of left) {
    const other = right.get(key);
    if (other === undefined) diff.onlyInA.length < limit && diff.onlyInA.push(key);
    else if (other !== row) diff.different.length < limit && diff.different.push(key);
  }
  for (const key of right.keys()) {
    if (!left.has(key) && diff.onlyInB.length < limit) diff.onlyInB.push(key);
  }
  return diff;
}

export const converged = (d: RegionDiff) => d.onlyInA.length + d.onlyInB.length + d.different.length === 0;

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
