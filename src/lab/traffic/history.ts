// The history the lab's users leave for the data check (src/replication/history/checker.ts):
// each write with its value and the stamp the origin answered (x-lab-stamp), each item a list
// read returned with its stamp. A session is one user at one copy of the data (its region's
// Redis, or one origin on the memory path): reads there must not go backwards.
import type { HistoryOp } from '../../replication/history/checker.js';
import { itemKey } from '../watchlist/store.js';
import type { Operation } from './operations.js';
import type { Answered } from './user-client.js';

export interface Request {
  user: string;
  op: Operation;
  /** The answer, null when none came (a write then is not acknowledged). */
  answer: Answered | null;
  /** The session's copy: a region, or an origin on the memory path. */
  session: string;
  startedAt: number;
  endedAt: number;
}

/** The ops one request adds to the history (none for a POST whose item never became known). */
export function historyOps(r: Request): HistoryOp[] {
  const { op, answer: a } = r;
  const acknowledged = !!a && a.status >= 200 && a.status < 300;
  const base = {
    session: `${r.user}@${r.session}`,
    region: a?.servedRegion ?? '',
    startedAt: r.startedAt,
    endedAt: r.endedAt,
  };
  if (op.method === 'GET') {
    if (!acknowledged) return [];
    let items: { id?: unknown; value?: unknown; stamp?: unknown }[] = [];
    try {
      items = (JSON.parse(a!.body) as { items?: typeof items }).items ?? [];
    } catch {
      return [];
    }
    return items
      .filter((i) => typeof i.id === 'string' && typeof i.value === 'string')
      .map((i) => ({
        ...base,
        kind: 'read' as const,
        key: itemKey(r.user, i.id as string),
        value: i.value as string,
        ...(typeof i.stamp === 'string' ? { stamp: i.stamp } : {}),
        acknowledged: true,
      }));
  }
  let item = op.item;
  if (op.method === 'POST' && acknowledged) {
    try {
      item = (JSON.parse(a!.body) as { item?: string }).item;
    } catch {}
  }
  if (item === undefined) return [];
  return [
    {
      ...base,
      kind: op.method === 'DELETE' ? 'delete' : 'write',
      key: itemKey(r.user, item),
      value: op.method === 'DELETE' ? null : (op.body ?? item),
      ...(acknowledged && a!.stamp ? { stamp: a!.stamp } : {}),
      acknowledged,
    },
  ];
}
