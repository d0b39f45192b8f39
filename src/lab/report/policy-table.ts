import type { CohortSummary } from '../../chaos/drills/types.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const ms = (x: number | null | undefined) => (x == null ? '-' : `${(x / 1000).toFixed(1)} s`);
const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)} %`);

/**
 * The answer policies side by side (one row per cohort of users): what users
 * holding the dead region's address went through, and what the policy costs
 * in steady state (requests through another region's edge or origins).
 */
export function policyTable(cohorts: Record<string, CohortSummary> | undefined): string {
  const rows = Object.entries(cohorts ?? {}).filter(([, c]) => c.answers !== undefined);
  if (rows.length === 0) return '';
  const body = rows
    .map(([name, c]) => {
      const f = c.failuresByKind;
      const cells = [
        name,
        c.hostname ?? '',
        String(c.requests),
        `${f.idempotent} / ${f.postWithKey} / ${f.post}`,
        ms(c.resolverShiftMs),
        ms(c.userErrorWindowMs.all),
        ms(c.lastFailureMs),
        pct(c.steadyOutsideHomeShare),
        c.steadyP50Ms == null ? '-' : `${c.steadyP50Ms} / ${c.steadyP99Ms ?? '-'} ms`,
      ];
      return `<tr>${cells.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<h3>Answer policies</h3>
<table><tr><th>policy, TTL</th><th>hostname</th><th>requests</th><th>failed: idempotent / POST with key / POST</th><th>resolver stopped naming it</th><th>error window</th><th>last failure after the kill</th><th>steady state outside home</th><th>steady p50 / p99</th></tr>
${body}</table>`;
}
