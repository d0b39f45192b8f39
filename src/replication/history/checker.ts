// STAND-IN (helper B, branch i16-labdata) until helper C's checker lands on
// this path: the same signature, minimal rules (lost, divergent, stale reads;
// no last-writer-wins check). Take C's file over this one when merging.
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

export interface DataCheck {
  acknowledged: number;
  lost: number;
  divergent: number;
  staleReads: number;
  lwwViolations: number;
  anomalies: { kind: 'lost' | 'divergent' | 'stale-read' | 'lww'; key: string; detail: string }[];
}

export function checkHistory(history: HistoryOp[], final: FinalState): DataCheck {
  const out: DataCheck = {
    acknowledged: 0,
    lost: 0,
    divergent: 0,
    staleReads: 0,
    lwwViolations: 0,
    anomalies: [],
  };
  const regions = Object.keys(final);
  for (const op of history) {
    if (op.kind === 'read' || !op.acknowledged) continue;
    out.acknowledged++;
    if (!op.stamp) continue;
    // Lost: some region ends with nothing, or with something older than this acknowledged write.
    const behind = regions.filter((r) => {
      const rec = final[r].get(op.key);
      return !rec || compareHlc(rec.stamp, op.stamp!) < 0;
    });
    if (behind.length > 0) {
      out.lost++;
      out.anomalies.push({
        kind: 'lost',
        key: op.key,
        detail: `${op.stamp} missing in ${behind.join(', ')}`,
      });
    }
  }
  const keys = new Set(regions.flatMap((r) => [...final[r].keys()]));
  for (const key of keys) {
    const seen = new Set(regions.map((r) => JSON.stringify(final[r].get(key) ?? null)));
    if (seen.size > 1) {
      out.divergent++;
      out.anomalies.push({ kind: 'divergent', key, detail: [...seen].join(' vs ') });
    }
  }
  // Stale read: a session read (or wrote) a key at a stamp, then read it older.
  const latest = new Map<string, string>();
  for (const op of [...history].sort((a, b) => a.startedAt - b.startedAt)) {
    if (!op.stamp || !op.acknowledged) continue;
    const id = `${op.session}\n${op.key}`;
    const before = latest.get(id);
    if (op.kind === 'read' && before && compareHlc(op.stamp, before) < 0) {
      out.staleReads++;
      out.anomalies.push({
        kind: 'stale-read',
        key: op.key,
        detail: `${op.session} read ${op.stamp} after ${before}`,
      });
    }
    if (!before || compareHlc(op.stamp, before) > 0) latest.set(id, op.stamp);
  }
  return out;
}
