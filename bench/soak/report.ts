// The soak's table, charts (SVG and PNG through the lab report's chart code) and JSON.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, PALETTE } from '../../src/lab/report/svg-chart.js';
import { renderPng } from '../../src/lab/report/write.js';
import type { Judgement } from './judge.js';
import type { SoakRun, Track } from './run.js';
import type { SoakResult } from './verdict.js';

const MB = 1024 * 1024;
/** More lines than the lab's palette has colours: the palette, then evenly spaced hues. */
const color = (k: number) => PALETTE[k] ?? `hsl(${Math.round((k * 137.5) % 360)}, 60%, 42%)`;

const fmt = (x: number | null, scale = 1, digits = 1) => (x === null ? 'n/a' : (x / scale).toFixed(digits));

function cell(j: Judgement, scale: number, unit: string): string {
  if (j.median === null) return 'n/a';
  const slope =
    j.slopePerHour === null ? '' : ` ${j.slopePerHour >= 0 ? '+' : ''}${fmt(j.slopePerHour, scale)}${unit}/h`;
  return `${fmt(j.median, scale)}${slope}${j.grows ? ' GROWS' : ''}`;
}

export function table(result: SoakResult): string[] {
  const rows = result.processes.map((p) => [
    p.name,
    p.pids.join(','),
    cell(p.rss, MB, ''),
    cell(p.heap, MB, ''),
    cell(p.fds, 1, ''),
    p.judged ? (p.rss.grows || p.fds.grows || p.heap.grows ? 'GROWS' : 'flat') : 'not judged',
  ]);
  const head = ['process', 'pid', 'rss MB (median, slope)', 'heap MB', 'open fds', 'verdict'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  const notes = result.processes.filter((p) => p.note).map((p) => `  ${p.name}: ${p.note}`);
  const p99 = result.p99;
  return [
    line(head),
    ...rows.map(line),
    '',
    `users' p99: median ${fmt(p99.median, 1, 0)} ms${p99.slopePerHour === null ? '' : `, slope ${fmt(p99.slopePerHour, 1, 0)} ms/h`} (${p99.judged ? p99.why : `not judged: ${p99.why}`})`,
    ...(notes.length > 0 ? ['', ...notes] : []),
  ];
}

/** Each interval's floor per process (what the judge looks at), null where the process was not running. */
function floors(t: Track, key: 'rssBytes' | 'fds' | 'heapBytes', intervalS: number, n: number) {
  return Array.from({ length: n }, (_, k) => {
    const vs = t.subs
      .filter((s) => s.t > k * intervalS && s.t <= (k + 1) * intervalS && s[key] !== null)
      .map((s) => s[key]!);
    return vs.length === 0 ? null : Math.min(...vs);
  });
}

export function writeCharts(
  dir: string,
  run: SoakRun,
  o: { intervalS: number; slotS: number; cycleS: number; totalS: number; drills: readonly string[] },
): string[] {
  const n = run.users.length;
  const tracks = [...run.tracks.values()];
  const events = Array.from({ length: Math.floor(o.totalS / o.cycleS) }, (_, c) => ({
    t: c * o.cycleS * 1000,
    label: `cycle ${c + 1}`,
  }));
  // Value i is the interval ending at (i + 1) x interval: the x axis starts at the first.
  const shifted = events.map((e) => ({ ...e, t: Math.max(0, e.t - o.intervalS * 1000) }));
  const chart = (
    name: string,
    title: string,
    yLabel: string,
    key: 'rssBytes' | 'fds' | 'heapBytes',
    scale: number,
  ) => {
    const series = tracks
      .map((t, k) => ({
        name: t.pids.length > 1 ? `${t.name}*` : t.name,
        color: color(k),
        values: floors(t, key, o.intervalS, n).map((v) => (v === null ? null : +(v / scale).toFixed(2))),
      }))
      .filter((s) => s.values.some((v) => v !== null));
    if (series.length === 0) return null;
    return {
      name,
      svg: lineChart({
        title: tracks.some((t) => t.pids.length > 1) ? `${title}; * restarted by kong` : title,
        yLabel,
        series,
        events: shifted,
        secondsPerValue: o.intervalS,
        width: 1000,
        height: Math.max(300, 70 + 16 * series.length),
      }),
    };
  };
  const charts = [
    chart('rss', `RSS per process (floor of each ${o.intervalS} s)`, 'MB', 'rssBytes', MB),
    chart('fds', `open file descriptors per process (floor of each ${o.intervalS} s)`, 'fds', 'fds', 1),
    chart(
      'heap',
      `heap per process from /metrics, after the last major GC where exported (floor of each ${o.intervalS} s)`,
      'MB',
      'heapBytes',
      MB,
    ),
    {
      name: 'p99',
      svg: lineChart({
        title: `users' latency over each ${o.intervalS} s (${o.drills.join(', ')} in turn, ${o.slotS} s each)`,
        yLabel: 'ms',
        series: [
          { name: 'p99', color: PALETTE[0], values: run.users.map((u) => u.p99Ms) },
          { name: 'p50', color: PALETTE[2], values: run.users.map((u) => u.p50Ms) },
        ],
        events: shifted,
        secondsPerValue: o.intervalS,
        width: 1000,
      }),
    },
  ].filter((c) => c !== null);
  const files: string[] = [];
  for (const c of charts) {
    const svg = join(dir, `${c.name}.svg`);
    const png = join(dir, `${c.name}.png`);
    writeFileSync(svg, c.svg);
    writeFileSync(png, renderPng(c.svg));
    files.push(svg, png);
  }
  return files;
}
