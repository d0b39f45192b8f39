import type { CohortSummary, Summary } from '../chaos/drills/types.js';

interface Judged {
  scenario: string;
  notes: string[];
  cohorts?: Record<string, CohortSummary>;
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

/** What a person reads at the end of `meridian lab`: what ran, every check, the answer policies. */
export function textSummary(s: Judged): string[] {
  const runs = s.scenarios ?? [s];
  const lines: string[] = [];
  const setup = [...new Set(runs.flatMap((r) => r.notes).filter((n) => /^(control|resolver): /.test(n)))];
  if (setup.length > 0) lines.push(...setup.map((n) => `  ${n}`));
  for (const run of runs) {
    lines.push(`${run.scenario}: ${run.verdict.pass ? 'PASS' : 'FAIL'}`);
    for (const c of run.verdict.checks) lines.push(`  ${c.pass ? '✔' : '✘'} ${c.name}: ${c.detail}`);
    lines.push(...policyLines(run.cohorts).map((l) => `  ${l}`));
  }
  return lines;
}
