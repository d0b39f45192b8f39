// The sample service's data as the lab sees it: per user, a watch list of
// items. The data itself lives in the replicated cache (one key per item, in
// each origin's MemoryStore); this file maps items to cache keys and back,
// and compares origins' copies.
import type { ReplicationEvent } from '../../replication/event.js';
import { parseHlc } from '../../replication/hlc.js';
import type { StoredRecord } from '../../replication/memory-store.js';

export interface Entry {
  user: string;
  item: string;
  /** null: the item was deleted (a tombstone, kept so a late copy cannot revive it). */
  value: string | null;
  /** Wall-clock ms of the write's stamp. */
  ts: number;
  /** The origin that wrote it (its replication source name). */
  writer: string;
  /** The write's hybrid logical clock stamp: last writer wins by it. */
  hlc: string;
}

/** Every item key starts with it. */
export const KEY_PREFIX = 'wl:';

/** The cache key of one item: user and item URI-encoded, so '/' cannot blur them. */
export const itemKey = (user: string, item: string) => `${userPrefix(user)}${encodeURIComponent(item)}`;
export const userPrefix = (user: string) => `${KEY_PREFIX}${encodeURIComponent(user)}/`;

/** The entry a stored record stands for; null for keys that are not items. */
export function entryOf(key: string, record: StoredRecord): Entry | null {
  if (!key.startsWith(KEY_PREFIX)) return null;
  const [user, item, extra] = key.slice(KEY_PREFIX.length).split('/');
  const stamp = parseHlc(record.stamp);
  if (item === undefined || extra !== undefined || !stamp) return null;
  return {
    user: decodeURIComponent(user),
    item: decodeURIComponent(item),
    value: record.value,
    ts: stamp.wall,
    writer: stamp.origin,
    hlc: record.stamp,
  };
}

/** The write an entry from another origin's dump stands for (bootstrap); null without a valid stamp. */
export function eventOf(e: Entry): ReplicationEvent | null {
  if (typeof e?.user !== 'string' || typeof e.item !== 'string' || typeof e.hlc !== 'string') return null;
  if (!parseHlc(e.hlc)) return null;
  const key = itemKey(e.user, e.item);
  if (typeof e.value === 'string') return { op: 'set', key, value: e.value, hlc: e.hlc, at: Date.now() };
  return { op: 'del', key, hlc: e.hlc, at: Date.now() };
}

/** Keys whose final state differs between copies (missing in one counts). */
export function divergentKeys(copies: Entry[][]): string[] {
  const states = copies.map((c) => new Map(c.map((e) => [`${e.user}/${e.item}`, e.value])));
  const keys = new Set(states.flatMap((s) => [...s.keys()]));
  return [...keys].filter((k) => {
    const first = states[0].get(k) ?? null;
    return states.some((s) => (s.get(k) ?? null) !== first);
  });
}

/** A copy's final state as the history checker reads it: item key -> value and stamp. */
export function finalStateOf(
  entries: readonly Entry[],
): Map<string, { value: string | null; stamp: string }> {
  return new Map(entries.map((e) => [itemKey(e.user, e.item), { value: e.value, stamp: e.hlc }]));
}
