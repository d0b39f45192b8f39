import { type Change, normalize, type RecordSet, recordSetKey, sameRecordSet } from './model.js';

export interface Diff {
  changes: Change[];
  /** Record sets already as wanted. */
  unchanged: number;
  /** For printing: what each put replaces (undefined when it is new). */
  before: Map<string, RecordSet>;
}

/** What to put and delete so that `current` (the managed names only) becomes `desired`. */
export function diffRecordSets(current: readonly RecordSet[], desired: readonly RecordSet[]): Diff {
  const have = new Map(current.map((r) => [recordSetKey(r), normalize(r)]));
  const want = new Map(desired.map((r) => [recordSetKey(r), normalize(r)]));
  const changes: Change[] = [];
  const before = new Map<string, RecordSet>();
  let unchanged = 0;
  for (const [key, r] of want) {
    const old = have.get(key);
    if (old && sameRecordSet(old, r)) {
      unchanged++;
      continue;
    }
    if (old) before.set(key, old);
    changes.push({ action: 'put', recordSet: r });
  }
  for (const [key, r] of have) {
    if (!want.has(key))
      changes.push({ action: 'delete', name: r.name, type: r.type, qualifier: r.qualifier });
  }
  return { changes, unchanged, before };
}

export function describeRecordSet(r: RecordSet): string {
  const q = r.qualifier ? ` [${r.qualifier}]` : '';
  const p =
    r.profile?.kind === 'geo'
      ? ` geo ${r.profile.territories.join(',')}`
      : r.profile?.kind === 'weighted'
        ? ` weight ${r.profile.weight}`
        : '';
  return `${r.name} ${r.type}${q} ttl ${r.ttl}${p}: ${r.records.join(' ')}`;
}

/** One line per change: "+ put ...", "- delete ...", with the old value of a replaced set. */
export function formatDiff(diff: Diff): string[] {
  return diff.changes.map((c) => {
    if (c.action === 'delete') return `- ${c.name} ${c.type}${c.qualifier ? ` [${c.qualifier}]` : ''}`;
    const old = diff.before.get(recordSetKey(c.recordSet));
    return old
      ? `~ ${describeRecordSet(c.recordSet)}  (was: ${old.records.join(' ')}${old.ttl !== c.recordSet.ttl ? ` ttl ${old.ttl}` : ''})`
      : `+ ${describeRecordSet(c.recordSet)}`;
  });
}
