import { percentile, type Recorder } from '../recorder.js';
import { type ChartSpec, lineChart, PALETTE } from './svg-chart.js';

export interface NamedChart {
  name: string;
  svg: string;
}

/** The three charts of one scenario: share per region, errors, p99, each with the event markers. */
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
    title: `${scenario}: failed and shed requests per second`,
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
  return [
    { name: `${scenario}-share`, svg: lineChart(share) },
    { name: `${scenario}-errors`, svg: lineChart(errors) },
    { name: `${scenario}-p99`, svg: lineChart(p99) },
  ];
}
