// Text for `meridian rollout`: the rollout with its waves and judgements, the outlier state, and
// the progress shown while waiting.
import { table } from './index-helpers.js';
import {
  formatPValue,
  formatValue,
  type OutlierState,
  type RolloutJudgement,
  type RolloutRecord,
  regionOf,
  stopReason,
  waveOf,
  wavesDone,
} from './rollout-record.js';

/** HH:MM:SS in UTC: the same on every machine that reads the output. */
export const clock = (at: number) => new Date(at).toISOString().slice(11, 19);
const pValue = (p: number | null) => (p === null ? 'p -' : `p ${formatPValue(p)}`);

export function formatJudgement(j: RolloutJudgement): string {
  const head = `${clock(j.at)} ${j.region} at dial ${j.dial} %: ${j.pass ? 'pass' : 'FAIL'}${j.why ? `: ${j.why}` : ''}`;
  if (j.metrics.length === 0) return head;
  const rows = j.metrics.map((m) => [
    `  ${m.name}`,
    `canary ${formatValue(m.canary)}`,
    `baseline ${formatValue(m.baseline)}`,
    pValue(m.pValue),
    m.pass ? 'pass' : 'FAIL',
  ]);
  return `${head}\n${table(rows)}`;
}

/** The current wave and its regions, e.g. "wave 2/3 us-west-2 (drain)". */
export function waveText(r: RolloutRecord): string {
  const wave = r.waves[r.waveIndex];
  return wave ? `${waveOf(r)} ${wave.regions.join(',')} (${wave.strategy})` : waveOf(r);
}

/** Each region of each wave with its version and phase. */
export function wavesTable(r: RolloutRecord): string {
  const rows = r.waves.flatMap((w, i) =>
    w.regions.map((id) => {
      const region = regionOf(r, id);
      return [
        `${i + 1}`,
        w.strategy,
        id,
        region?.version ?? '-',
        region?.phase ?? (r.regionsReached.includes(id) ? 'reached' : 'pending'),
      ];
    }),
  );
  return table([['wave', 'strategy', 'region', 'version', 'phase'], ...rows]);
}

export function formatRollout(r: RolloutRecord, judgements = 5): string {
  const from = r.previousVersion ? ` (from ${r.previousVersion})` : '';
  const lines = [
    `rollout ${r.id}: ${r.version}${from} ${r.status}, phase ${r.phase}, ${waveText(r)}; by ${r.who}, started ${clock(r.startedAt)}`,
  ];
  if (r.message) lines.push(`  ${r.message}`);
  lines.push(wavesTable(r));
  const shown = r.judgements.slice(-judgements);
  if (shown.length > 0) {
    lines.push(`judgements (last ${shown.length} of ${r.judgements.length}):`);
    for (const j of shown) lines.push(formatJudgement(j));
  } else lines.push('judgements: none yet');
  if (r.status === 'rolled-back' || r.status === 'aborted') lines.push(`why: ${stopReason(r)}`);
  return lines.join('\n');
}

export function formatOutlier(o: OutlierState | null | undefined): string {
  if (!o) return 'outlier detection: no state reported';
  if (o.enabled === false) return 'outlier detection: off (control.outlier.enabled)';
  const lines: string[] = [];
  if (o.global) lines.push(`GLOBAL since ${clock(o.global.at)}: ${o.global.why} (dials held)`);
  if (o.evacuated.length === 0) lines.push('outliers: no region evacuated');
  for (const e of o.evacuated)
    lines.push(`outlier: ${e.region} evacuated at ${clock(e.at)} from dial ${e.fromDial} %: ${e.why}`);
  const last = o.decisions.at(-1);
  if (last)
    lines.push(
      `last decision ${clock(last.at)}: ${last.decision}${last.region ? ` ${last.region}` : ''}: ${last.why}`,
    );
  return lines.join('\n');
}

/** What changes between two progress lines: the wave, the status, the phase of the rollout and of each region. */
export function progressKey(r: RolloutRecord): string {
  const regions = Object.entries(r.regions).map(([id, g]) => `${id}:${g.version}:${g.phase}`);
  return [r.waveIndex, r.status, r.phase, r.judgements.length, ...regions].join('|');
}

function activeRegions(r: RolloutRecord): string {
  const wave = r.waves[r.waveIndex];
  if (!wave) return '';
  return wave.regions
    .map((id) => `${id} ${regionOf(r, id)?.version ?? '-'} ${regionOf(r, id)?.phase ?? 'pending'}`)
    .join(', ');
}

/** One line per phase change, for a log or a pipe. */
export function progressLine(r: RolloutRecord): string {
  const regions = activeRegions(r);
  const j = r.judgements.at(-1);
  const judged = j ? `; last judgement ${j.region} ${j.pass ? 'pass' : 'FAIL'}` : '';
  return `${clock(r.updatedAt)} ${waveText(r)}: ${r.status} ${r.phase}${regions ? ` [${regions}]` : ''}${judged}${r.message ? `: ${r.message}` : ''}`;
}

/** The progress bar for a terminal: waves done out of all, the wave, the phase. */
export function progressBar(r: RolloutRecord, width = 24): string {
  const total = r.waves.length;
  const filled = total > 0 ? Math.round((wavesDone(r) / total) * width) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${waveText(r)} ${r.phase}  ${activeRegions(r)}`;
}
