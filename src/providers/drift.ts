import { normalize, type RecordSet, recordSetKey, sameRecordSet } from './model.js';

/** What the provider held at the names Meridian managed, as the last sync left it. */
export interface Held {
  names: ReadonlySet<string>;
  sets: ReadonlyMap<string, RecordSet>;
}

export function heldAfter(names: Iterable<string>, sets: readonly RecordSet[]): Held {
  return { names: new Set(names), sets: new Map(sets.map((r) => [recordSetKey(r), normalize(r)])) };
}

/**
 * Drift: record sets someone else changed, added or removed since the last
 * sync, at names Meridian manages, that this sync must set right. A set that
 * only differs because the snapshot changed is not drift; nor is one changed
 * by hand to exactly what Meridian wants now.
 */
export function driftOf(
  before: Held | undefined,
  current: readonly RecordSet[],
  desired: readonly RecordSet[],
): string[] {
  if (!before) return [];
  const have = new Map(current.map((r) => [recordSetKey(r), r]));
  const want = new Map(desired.map((r) => [recordSetKey(r), r]));
  const keys = new Set([...have.keys(), ...before.sets.keys()]);
  const same = (a?: RecordSet, b?: RecordSet) => (a && b ? sameRecordSet(a, b) : a === b);
  return [...keys]
    .filter((key) => before.names.has(key.split('|')[0]))
    .filter((key) => !same(have.get(key), before.sets.get(key)) && !same(have.get(key), want.get(key)))
    .sort();
}
