import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Resvg as ResvgRenderer } from '@resvg/resvg-js';
import type { CohortSummary, OutlierSummary, RolloutSummary } from '../../chaos/drills/types.js';
import { releaseLines } from '../text-summary.js';
import type { NamedChart } from './charts.js';
import { policyTable } from './policy-table.js';

export interface ReportSection {
  scenario: string;
  charts: NamedChart[];
  /** The scenario's summary: shown as a table of checks and as JSON. */
  summary: {
    verdict: { pass: boolean; failures: string[]; checks: { name: string; pass: boolean; detail: string }[] };
    /** What ran (control setup, resolver, users): shown above the checks. */
    notes?: string[];
    cohorts?: Record<string, CohortSummary>;
    rollout?: RolloutSummary | null;
    outlier?: OutlierSummary | null;
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// The native renderer loads with the first chart, not with the lab (nor with the CLI): it is the
// heaviest module Meridian has. It is CommonJS, so require keeps renderPng synchronous.
let Resvg: typeof ResvgRenderer | undefined;

export function renderPng(svg: string): Buffer {
  Resvg ??= (createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js')).Resvg;
  return new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: 1.5 },
  })
    .render()
    .asPng();
}

const notes = (list: string[] | undefined) =>
  list && list.length > 0 ? `<ul class="notes">${list.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';

/** The rollout and outlier lines of the text summary, as a paragraph each. */
const release = (s: ReportSection['summary']) =>
  releaseLines(s)
    .map((l) => `<p class="release">${esc(l)}</p>`)
    .join('\n');

function section(s: ReportSection): string {
  const v = s.summary.verdict;
  const rows = v.checks
    .map((c) => `<tr><td>${c.pass ? '✔' : '✘'}</td><td>${esc(c.name)}</td><td>${esc(c.detail)}</td></tr>`)
    .join('\n');
  return `<section>
<h2>${esc(s.scenario)}: <span class="${v.pass ? 'pass' : 'fail'}">${v.pass ? 'PASS' : 'FAIL'}</span></h2>
${notes(s.summary.notes)}
${release(s.summary)}
<table><tr><th></th><th>check</th><th>measured</th></tr>${rows}</table>
${policyTable(s.summary.cohorts)}
${s.charts.map((c) => `<figure>${c.svg}<figcaption>${esc(c.name)}.png</figcaption></figure>`).join('\n')}
<details><summary>summary.json of ${esc(s.scenario)}</summary><pre>${esc(JSON.stringify(s.summary, null, 2))}</pre></details>
</section>`;
}

/** Writes index.html (offline: inline SVG, no scripts), one PNG per chart, and summary.json. */
export function writeReport(
  dir: string,
  title: string,
  sections: ReportSection[],
  summary: unknown,
): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const s of sections)
    for (const c of s.charts) {
      const file = join(dir, `${c.name}.png`);
      writeFileSync(file, renderPng(c.svg));
      files.push(file);
    }
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;max-width:960px;color:#222}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}
.pass{color:#2ca02c}.fail{color:#d62728}figure{margin:12px 0}figcaption{font-size:11px;color:#777}
ul.notes{font-size:13px;color:#444}pre{font-size:11px;background:#f6f6f6;padding:8px;overflow:auto}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Generated ${new Date().toISOString()} by <code>meridian lab</code>. Dashed lines mark events (phases, faults).</p>
${sections.map(section).join('\n')}
</body></html>
`;
  writeFileSync(join(dir, 'index.html'), html);
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  files.push(join(dir, 'index.html'), join(dir, 'summary.json'));
  return files;
}
