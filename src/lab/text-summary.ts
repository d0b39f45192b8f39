import type { CohortSummary, OutlierSummary, RolloutSummary, Summary } from '../chaos/drills/types.js';

interface Judged {
  scenario: string;
  notes: string[];
  cohorts?: Record<string, CohortSummary>;
  rollout?: RolloutSummary | null;
  outlier?: OutlierSummary | null;
  verdict: Summary['verdict'];
  scenarios?: Judged[];
}

const s1 = (x: number | null | undefined) => (x == null ? '-' : `${(x / 1000).toFixed(1)} s`);
const pct = (x: number | null | undefined) => (x == null ? '-' : `${Math.round(x * 100)} %`);

/** The answer policies side by side, one line per cohort, aligned for a terminal. */
function policyLines(cohorts: Record<string, CohortSummary> | undefined): string[] {
  const rows = Object.entries(cohorts ?? {}).filter(([, c]) => c.answers !== undefined);
  if (rows.length === 0) return [];
  const table = [
    [
      'answers, TTL',
      'failed: idempotent / key POST / POST',
      'resolver shift',
      'last failure',
      'outside home',
      'steady p50',
    ],
    ...rows.map(([name, c]) => [
      name,
      `${c.failuresByKind.idempotent} / ${c.failuresByKind.postWithKey} / ${c.failuresByKind.post} of ${c.requests}`,
      s1(c.resolverShiftMs),
      s1(c.lastFailureMs),
      pct(c.steadyOutsideHomeShare),
      c.steadyP50Ms == null ? '-' : `${c.steadyP50Ms} ms`,
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  return [
    'answer policies (after the kill; steady state before it):',
    ...table.map(
      (r) =>
        `  ${r
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd()}`,
    ),
  ];
}

/** What control's rollout and outlier detection did (issue 14's drills), when they did anything. */
export function releaseLines(s: Pick<Judged, 'rollout' | 'outlier'>): string[] {
  const lines: string[] = [];
  const r = s.rollout;
  if (r) {
    const stop = r.judgements.find((j) => !j.pass);
    lines.push(
      `rollout ${r.version}: ${r.result}, reached ${r.regionsReached.join(', ') || 'no region'}, ` +
        `${r.judgements.length} judgements${stop ? `; stopped by ${stop.region} at dial ${stop.dial}: ${stop.why}` : ''}`,
    );
  }
  const o = s.outlier;
  if (o && (o.evacuated.length > 0 || o.globalAt !== null)) {
    const parts = [];
    if (o.evacuated.length > 0)
      parts.push(
        `evacuated ${o.evacuated.join(', ')}, ${o.restoredAfterMs === null ? 'not restored' : `restored ${s1(o.restoredAfterMs)} after the fix`}`,
      );
    if (o.globalAt !== null) parts.push(`global raised at ${s1(o.globalAt)}: ${o.globalWhy ?? ''}`);
    lines.push(`outlier: ${parts.join('; ')}`);
  }
  return lines;
}

/** What a person reads at the end of `meridian lab`: what ran, every check, the answer policies. */
export function textSummary(s: Judged): string[] {
  const runs = s.scenarios ?? [s];
  const lines: string[] = [];
  const setup = [
    ...new Set(runs.flatMap((r) => r.notes).filter((n) => /^(control|resolver|links|data): /.test(n))),
  ];
  if (setup.length > 0) lines.push(...setup.map((n) => `  ${n}`));
  for (const run of runs) {
    lines.push(`${run.scenario}: ${run.verdict.pass ? 'PASS' : 'FAIL'}`);
    for (const c of run.verdict.checks) lines.push(`  ${c.pass ? '✔' : '✘'} ${c.name}: ${c.detail}`);
    lines.push(...releaseLines(run).map((l) => `  ${l}`));
    lines.push(...policyLines(run.cohorts).map((l) => `  ${l}`));
  }
  return lines;
}
