// A Jepsen-style check of a replicated cache's history: every op a client
// invoked (with whether it was acknowledged) and every region's final state.
// Pure: the tests, the lab and the bench collect the history and the final
// state themselves and hand both in.
import { compareHlc } from '../hlc.js';

export interface HistoryOp {
  session: string;
  region: string;
  kind: 'write' | 'delete' | 'read';
  key: string;
  value: string | null;
  stamp?: string; // HLC of a write, when the client knows it
  acknowledged: boolean;
  startedAt: number;
  endedAt: number;
}

export interface FinalState {
  [region: string]: Map<string, { value: string | null; stamp: string } | undefined>;
}

export type AnomalyKind = 'lost' | 'divergent' | 'stale-read' | 'lww';

export interface DataCheck {
  acknowledged: number;
  lost: number;
  divergent: number;
  staleReads: number;
  lwwViolations: number;
  anomalies: { kind: AnomalyKind; key: string; detail: string }[];
}

/** Anomalies listed per kind; the counts stay exact beyond it. */
export const MAX_ANOMALIES_PER_KIND = 50;

type FinalRecord = { value: string | null; stamp: string } | undefined;
type Mutation = HistoryOp & { kind: 'write' | 'delete' };

const isMutation = (op: HistoryOp): op is Mutation => op.kind !== 'read';
/** What a write leaves for readers: a delete leaves null (tombstone or nothing). */
const leftValue = (op: Mutation) => (op.kind === 'delete' ? null : op.value);
const show = (r: FinalRecord) => (r === undefined ? 'nothing' : `${JSON.stringify(r.value)}@${r.stamp}`);

export function checkHistory(history: HistoryOp[], final: FinalState): DataCheck {
  const check: DataCheck = {
    acknowledged: 0,
    lost: 0,
    divergent: 0,
    staleReads: 0,
    lwwViolations: 0,
    anomalies: [],
  };
  const listed = new Map<AnomalyKind, number>();
  const report = (kind: AnomalyKind, key: string, detail: string) => {
    const n = listed.get(kind) ?? 0;
    listed.set(kind, n + 1);
    if (n < MAX_ANOMALIES_PER_KIND) check.anomalies.push({ kind, key, detail });
  };

  const writesByKey = new Map<string, Mutation[]>();
  for (const op of history) {
    if (!isMutation(op)) continue;
    if (op.acknowledged) check.acknowledged++;
    const list = writesByKey.get(op.key) ?? [];
    list.push(op);
    writesByKey.set(op.key, list);
  }
  const regions = Object.keys(final);

  for (const [key, writes] of writesByKey) {
    const records = regions.map((region) => final[region].get(key));
    for (const w of writes) {
      if (!w.acknowledged) continue;
      const missing = regions.filter((_, i) => !holds(records[i], w, writes));
      if (missing.length === 0) continue;
      check.lost++;
      const where = missing.map((r) => `${r} has ${show(final[r].get(key))}`).join(', ');
      report(
        'lost',
        key,
        `acknowledged ${w.kind} ${JSON.stringify(leftValue(w))}@${w.stamp ?? '?'} from ${w.region}: ${where}`,
      );
    }
    if (!records.every((r) => sameForReaders(r, records[0]))) {
      check.divergent++;
      report('divergent', key, regions.map((r, i) => `${r}: ${show(records[i])}`).join(', '));
      continue;
    }
    const lww = lwwProblem(
      records.find((r) => r !== undefined),
      writes,
    );
    if (lww) {
      check.lwwViolations++;
      report('lww', key, lww);
    }
  }

  for (const [session, ops] of sessions(history)) {
    for (const stale of staleReadsOf(ops, writesByKey)) {
      check.staleReads++;
      report('stale-read', stale.key, `session ${session}: ${stale.detail}`);
    }
  }
  return check;
}

/** Does a region's final record hold this acknowledged write or a later one? */
function holds(record: FinalRecord, w: Mutation, writes: Mutation[]): boolean {
  // No record: nothing arrived, or a delete's tombstone expired (this one's or a later one's).
  if (record === undefined)
    return w.kind === 'delete' || writes.some((d) => d.kind === 'delete' && later(d, w));
  if (w.stamp === undefined) return true; // without a stamp only "the key is gone" is a loss
  return compareHlc(record.stamp, w.stamp) >= 0;
}

const later = (a: Mutation, b: Mutation) =>
  a.stamp !== undefined && (b.stamp === undefined || compareHlc(a.stamp, b.stamp) > 0);

/** Regions agree when (value, stamp) match; an expired tombstone equals no record. */
function sameForReaders(a: FinalRecord, b: FinalRecord): boolean {
  if (a === undefined || b === undefined) return (a ?? b) === undefined || (a ?? b)?.value === null;
  return a.value === b.value && a.stamp === b.stamp;
}

/** The converged record must be the write with the greatest stamp (acknowledged or not: it may have landed). */
function lwwProblem(record: FinalRecord, writes: Mutation[]): string | null {
  const stamped = writes.filter((w) => w.stamp !== undefined);
  const ackStamped = stamped.filter((w) => w.acknowledged);
  if (ackStamped.length === 0) return null;
  const newestAck = ackStamped.reduce((a, b) => (compareHlc(a.stamp ?? '', b.stamp ?? '') >= 0 ? a : b));
  if (record === undefined) return null; // the loss check already judged this
  if (compareHlc(record.stamp, newestAck.stamp ?? '') < 0) return null; // lost, reported as such
  const same = stamped.filter((w) => w.stamp === record.stamp);
  if (same.length > 0) {
    if (same.some((w) => leftValue(w) === record.value)) return null;
    const wrote = same.map((w) => JSON.stringify(leftValue(w))).join(' or ');
    return `final ${show(record)} but the write with that stamp wrote ${wrote}`;
  }
  // A stamp the history does not know: fine only if some write of unknown stamp wrote that value.
  if (writes.some((w) => w.stamp === undefined && leftValue(w) === record.value)) return null;
  return `final ${show(record)} is no write in the history; newest acknowledged is ${JSON.stringify(leftValue(newestAck))}@${newestAck.stamp}`;
}

/** Ops of one client session in one region, in the order they ran. */
function sessions(history: HistoryOp[]): Map<string, HistoryOp[]> {
  const out = new Map<string, HistoryOp[]>();
  for (const op of history) {
    const id = `${op.session}@${op.region}`;
    const list = out.get(id) ?? [];
    list.push(op);
    out.set(id, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.startedAt - b.startedAt);
  return out;
}

/**
 * Monotonic reads and read-your-writes, per key: a read must not return a
 * write older than one the session already wrote (acknowledged) or read. A
 * read's stamp is its own when given, else the stamps of the writes of that
 * value that had started before the read ended; when several fit, the read is
 * judged by the newest (benefit of the doubt) and raises the floor by the oldest.
 */
function staleReadsOf(ops: HistoryOp[], writesByKey: Map<string, Mutation[]>) {
  const floor = new Map<string, { stamp: string; why: string }>();
  const stale: { key: string; detail: string }[] = [];
  const raise = (key: string, stamp: string, why: string) => {
    const cur = floor.get(key);
    if (!cur || compareHlc(stamp, cur.stamp) > 0) floor.set(key, { stamp, why });
  };
  for (const op of ops) {
    if (isMutation(op)) {
      if (op.acknowledged && op.stamp)
        raise(op.key, op.stamp, `it wrote ${JSON.stringify(leftValue(op))}@${op.stamp}`);
      continue;
    }
    if (!op.acknowledged) continue;
    const stamps = readStamps(op, writesByKey.get(op.key) ?? []);
    if (stamps === null) continue; // a value no recorded write of known stamp produced: cannot judge
    const cur = floor.get(op.key);
    const newest = stamps.newest;
    if (cur && (newest === null || compareHlc(newest, cur.stamp) < 0)) {
      stale.push({
        key: op.key,
        detail: `read ${JSON.stringify(op.value)}${newest ? `@${newest}` : ' (never written)'} in ${op.region} after ${cur.why}`,
      });
    }
    if (stamps.oldest) raise(op.key, stamps.oldest, `it read ${JSON.stringify(op.value)}@${stamps.oldest}`);
  }
  return stale;
}

/** Candidate stamps of what a read returned; null newest = "no write at all" (a miss). */
function readStamps(
  read: HistoryOp,
  writes: Mutation[],
): { newest: string | null; oldest: string | null } | null {
  if (read.stamp) return { newest: read.stamp, oldest: read.stamp };
  const fits = writes.filter((w) => leftValue(w) === read.value && w.startedAt <= read.endedAt);
  if (fits.some((w) => w.stamp === undefined)) return null;
  const stamps = fits.map((w) => w.stamp as string).sort(compareHlc);
  if (read.value === null) {
    // A miss: a delete's tombstone, or a key never written (older than anything).
    return { newest: stamps.at(-1) ?? null, oldest: null };
  }
  if (stamps.length === 0) return null;
  return { newest: stamps.at(-1) ?? null, oldest: stamps[0] };
}
