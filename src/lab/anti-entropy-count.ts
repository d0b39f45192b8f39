// How many records the regions' anti-entropy copied because the streams had
// not delivered them, summed over the replication processes' /metrics: a data
// check that passed thanks to it says so.
import { request } from 'undici';
import type { LabProcessInfo } from './deployment.js';

const REPAIRED = /^meridian_replication_anti_entropy_repaired_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm;

/** The sum of the counter over every replication process that answers; null when none does. */
export async function antiEntropyRepairs(processes: readonly LabProcessInfo[]): Promise<number | null> {
  let total: number | null = null;
  for (const p of processes.filter((x) => x.name.startsWith('replication-') && x.metrics)) {
    const text = await request(p.metrics!, { headersTimeout: 2000, bodyTimeout: 2000 })
      .then((r) => r.body.text())
      .catch(() => null);
    if (text === null) continue;
    total = (total ?? 0) + [...text.matchAll(REPAIRED)].reduce((n, m) => n + Number(m[1]), 0);
  }
  return total;
}
