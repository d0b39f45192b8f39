import { percentile, type Recorder } from '../recorder.js';
import { type ChartSpec, lineChart, PALETTE } from './svg-chart.js';

export interface NamedChart {
  name: string;
  svg: string;
}

/** The charts of one scenario: share per region, errors, latency, latency per user territory; with the event markers. */
export function scenarioCharts(scenario: string, recorder: Recorder): NamedChart[] {
  const { buckets, events, regions } = recorder;
  const share: ChartSpec = {
    title: `${scenario}: share of requests served per region`,
    yLabel: 'share',
    yMax: 1,
    events,
    series: regions.map((r, k) => ({
      name: r,
      color: PALETTE[k % PALETTE.length],
      values: buckets.map((b) => (b.ok === 0 ? null : (b.byRegion.get(r) ?? 0) / b.ok)),
    })),
  };
  const errors: ChartSpec = {
    title: `${scenario}: failed requests per second (shed ones included) and shed ones`,
    yLabel: 'requests/s',
    events,
    series: [
      { name: 'failed', color: PALETTE[1], values: buckets.map((b) => b.failed) },
      { name: 'shed', color: PALETTE[4], values: buckets.map((b) => b.shed) },
      { name: 'total', color: '#999999', values: buckets.map((b) => b.total) },
    ],
  };
  const p99: ChartSpec = {
    title: `${scenario}: p99 latency`,
    yLabel: 'ms',
    events,
    series: [
      { name: 'p99', color: PALETTE[0], values: buckets.map((b) => percentile(b.latencies, 99)) },
      { name: 'p50', color: PALETTE[2], values: buckets.map((b) => percentile(b.latencies, 50)) },
    ],
  };
  const homes = [...new Set(buckets.flatMap((b) => [...b.latenciesByHome.keys()]))].sort();
  const territories: ChartSpec = {
    title: `${scenario}: p50 and p99 latency by the users' home region (distance included)`,
    yLabel: 'ms',
    events,
    series: homes.flatMap((home, k) => [
      {
        name: `${home} p50`,
        color: PALETTE[(2 * k) % PALETTE.length],
        values: buckets.map((b) => percentile(b.latenciesByHome.get(home) ?? [], 50)),
      },
      {
        name: `${home} p99`,
        color: PALETTE[(2 * k + 1) % PALETTE.length],
        values: buckets.map((b) => percentile(b.latenciesByHome.get(home) ?? [], 99)),
      },
    ]),
  };
  const charts: NamedChart[] = [
    { name: `${scenario}-share`, svg: lineChart(share) },
    { name: `${scenario}-errors`, svg: lineChart(errors) },
    { name: `${scenario}-p99`, svg: lineChart(p99) },
    { name: `${scenario}-territories`, svg: lineChart(territories) },
  ];
  const versions = versionsChart(scenario, recorder);
  if (versions) charts.push({ name: `${scenario}-versions`, svg: lineChart(versions) });
  const cohorts = [...recorder.cohorts.keys()].filter((c) => c !== '').sort();
  if (cohorts.length > 0)
    charts.push({ name: `${scenario}-policies`, svg: lineChart(policies(scenario, recorder, cohorts)) });
  return charts;
}

/**
 * The versions each region's origins answered with, per second: the share of the region's answers
 * on each version other than v1 (so v1 is the rest). Only when something but v1 was served.
 */
function versionsChart(scenario: string, recorder: Recorder): ChartSpec | null {
  const pairs = new Set<string>();
  for (const b of recorder.buckets)
    for (const [region, byVersion] of b.versions)
      for (const v of byVersion.keys()) if (v !== 'v1') pairs.add(`${region} ${v}`);
  if (pairs.size === 0) return null;
  return {
    title: `${scenario}: share of each region's answers on a new version (x-lab-version; the rest on v1)`,
    yLabel: 'share',
    yMax: 1,
    events: recorder.events,
    series: [...pairs].sort().map((pair, k) => {
      const [region, version] = pair.split(' ');
      return {
        name: pair,
        color: PALETTE[k % PALETTE.length],
        values: recorder.buckets.map((b) => {
          const byVersion = b.versions.get(region);
          const all = [...(byVersion?.values() ?? [])].reduce((s, n) => s + n, 0);
          return all === 0 ? null : (byVersion!.get(version) ?? 0) / all;
        }),
      };
    }),
  };
}

/** Failed requests per second (when users saw them fail) for each answer-policy cohort. */
function policies(scenario: string, recorder: Recorder, cohorts: string[]): ChartSpec {
  const seconds = recorder.buckets.length;
  return {
    title: `${scenario}: failed requests per second by answer policy and TTL`,
    yLabel: 'requests/s',
    events: recorder.events,
    series: cohorts.map((cohort, k) => {
      const values = new Array<number>(seconds).fill(0);
      for (const f of recorder.failed) {
        const second = Math.floor(f.at / 1000);
        if (f.cohort === cohort && second >= 0 && second < seconds) values[second]++;
      }
      return { name: cohort, color: PALETTE[k % PALETTE.length], values };
    }),
  };
}
