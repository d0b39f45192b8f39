import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  initialRelativeState,
  judgeRelative,
  type RegionReading,
  type RelativeState,
  type RelativeThresholds,
  type Verdict,
} from './relative-health.js';

const t: RelativeThresholds = {
  minRequestsPerSecond: 5,
  errorRateMargin: 0.05,
  errorRateRatio: 3,
  p99Ratio: 3,
  p99MarginMs: 200,
  fallAfterMs: 3000,
  riseAfterMs: 10_000,
  healthyErrorRate: 0.05,
  healthyP99Ms: 1000,
};
const REGIONS = ['east', 'west', 'eu'];
const ok = (extra: Partial<RegionReading> = {}): RegionReading => ({
  errorRate: 0,
  p99Ms: 20,
  requestsPerS: 100,
  ...extra,
});

/** Judges the same readings at `times` (ms) in order; returns the last judgement. */
function judgeOver(
  readings: [string, RegionReading][],
  times: number[],
  evacuated: string[] = [],
  regions = REGIONS.slice(0, 2),
  start: RelativeState = initialRelativeState(),
) {
  let state = start;
  let last: ReturnType<typeof judgeRelative> | undefined;
  for (const now of times) {
    last = judgeRelative(
      state,
      { regions, readings: new Map(readings), evacuated: new Set(evacuated), now },
      t,
    );
    state = last.state;
  }
  return last!;
}

const cases: {
  name: string;
  readings: [string, RegionReading][];
  times: number[];
  evacuated?: string[];
  regions?: string[];
  expect: Record<string, Verdict>;
  global?: boolean;
}[] = [
  {
    name: 'both fine',
    readings: [
      ['east', ok()],
      ['west', ok()],
    ],
    times: [0, 5000],
    expect: { east: 'fine', west: 'fine' },
    global: false,
  },
  {
    name: '30 % errors against 0 %, for fallAfter: outlier',
    readings: [
      ['east', ok({ errorRate: 0.3 })],
      ['west', ok()],
    ],
    times: [0, 3000],
    expect: { east: 'outlier', west: 'fine' },
  },
  {
    name: '30 % errors, not yet for fallAfter: worse only',
    readings: [
      ['east', ok({ errorRate: 0.3 })],
      ['west', ok()],
    ],
    times: [0, 2999],
    expect: { east: 'worse', west: 'fine' },
  },
  {
    name: 'within the margin: fine (4 % vs 0 %)',
    readings: [
      ['east', ok({ errorRate: 0.04 })],
      ['west', ok()],
    ],
    times: [0, 5000],
    expect: { east: 'fine', west: 'fine' },
  },
  {
    name: 'above the margin but not ratio times the others: fine (8 % vs 4 %)',
    readings: [
      ['east', ok({ errorRate: 0.1 })],
      ['west', ok({ errorRate: 0.04 })],
    ],
    times: [0, 5000],
    expect: { east: 'fine', west: 'fine' },
  },
  {
    name: 'p99 ten times the others: outlier',
    readings: [
      ['east', ok({ p99Ms: 900 })],
      ['west', ok({ p99Ms: 90 })],
    ],
    times: [0, 3000],
    expect: { east: 'outlier', west: 'fine' },
  },
  {
    name: 'p99 three times but within p99Margin: fine',
    readings: [
      ['east', ok({ p99Ms: 150 })],
      ['west', ok({ p99Ms: 20 })],
    ],
    times: [0, 5000],
    expect: { east: 'fine', west: 'fine' },
  },
  {
    name: 'both at 30 %: bad, global after fallAfter',
    readings: [
      ['east', ok({ errorRate: 0.3 })],
      ['west', ok({ errorRate: 0.3 })],
    ],
    times: [0, 3000],
    expect: { east: 'bad', west: 'bad' },
    global: true,
  },
  {
    name: 'both bad, not yet for fallAfter: not global',
    readings: [
      ['east', ok({ errorRate: 0.3 })],
      ['west', ok({ errorRate: 0.3 })],
    ],
    times: [0, 1000],
    expect: { east: 'bad', west: 'bad' },
    global: false,
  },
  {
    name: 'below the minimum volume: unjudged, however bad',
    readings: [
      ['east', ok({ errorRate: 0.9, requestsPerS: 4 })],
      ['west', ok({ requestsPerS: 4 })],
    ],
    times: [0, 5000],
    expect: { east: 'unjudged', west: 'unjudged' },
    global: false,
  },
  {
    name: 'no report: unjudged',
    readings: [['west', ok()]],
    times: [0, 5000],
    expect: { east: 'unjudged', west: 'fine' },
  },
  {
    name: 'three regions, one bad: the healthy two are its baseline',
    readings: [
      ['east', ok({ errorRate: 0.3 })],
      ['west', ok({ errorRate: 0.01 })],
      ['eu', ok()],
    ],
    regions: REGIONS,
    times: [0, 3000],
    expect: { east: 'outlier', west: 'fine', eu: 'fine' },
  },
  {
    name: 'three regions, two bad: each is judged against the healthy one',
    readings: [
      ['east', ok({ errorRate: 0.3 })],
      ['west', ok({ errorRate: 0.3 })],
      ['eu', ok()],
    ],
    regions: REGIONS,
    times: [0, 3000],
    expect: { east: 'outlier', west: 'outlier', eu: 'fine' },
    global: false,
  },
  {
    name: 'evacuated and fine again for riseAfter: recovered',
    readings: [
      ['east', ok({ requestsPerS: 10 })],
      ['west', ok()],
    ],
    evacuated: ['east'],
    times: [0, 10_000],
    expect: { east: 'recovered', west: 'fine' },
  },
  {
    name: 'evacuated and fine, not yet for riseAfter: recovering',
    readings: [
      ['east', ok({ requestsPerS: 10 })],
      ['west', ok()],
    ],
    evacuated: ['east'],
    times: [0, 9999],
    expect: { east: 'recovering', west: 'fine' },
  },
  {
    name: 'evacuated with no traffic: unjudged (recovery waits for a probe)',
    readings: [
      ['east', ok({ requestsPerS: 0 })],
      ['west', ok()],
    ],
    evacuated: ['east'],
    times: [0, 20_000],
    expect: { east: 'unjudged', west: 'fine' },
  },
  {
    name: 'one region evacuated, the one left serving goes bad too: global',
    readings: [
      ['east', ok({ requestsPerS: 0 })],
      ['west', ok({ errorRate: 0.3 })],
    ],
    evacuated: ['east'],
    times: [0, 3000],
    expect: { east: 'unjudged', west: 'bad' },
    global: true,
  },
];

for (const c of cases) {
  test(`relative health: ${c.name}`, () => {
    const j = judgeOver(c.readings, c.times, c.evacuated, c.regions);
    const verdicts = Object.fromEntries([...j.regions].map(([id, r]) => [id, r.verdict]));
    assert.deepEqual(
      verdicts,
      c.expect,
      [...j.regions.values()].map((r) => `${r.region}: ${r.why}`).join('\n'),
    );
    if (c.global !== undefined) assert.equal(j.global.raised, c.global, j.global.why);
  });
}

test('relative health: a break in the bad streak starts fallAfter again', () => {
  const bad: [string, RegionReading][] = [
    ['east', ok({ errorRate: 0.3 })],
    ['west', ok()],
  ];
  let j = judgeOver(bad, [0, 2000]);
  j = judgeOver([['east', ok()], bad[1]], [2500], [], undefined, j.state);
  j = judgeOver(bad, [3000, 5000], [], undefined, j.state);
  assert.equal(j.regions.get('east')!.verdict, 'worse');
  j = judgeOver(bad, [6000], [], undefined, j.state);
  assert.equal(j.regions.get('east')!.verdict, 'outlier');
});

test('relative health: global clears only after riseAfter of not all bad', () => {
  const allBad: [string, RegionReading][] = [
    ['east', ok({ errorRate: 0.3 })],
    ['west', ok({ errorRate: 0.3 })],
  ];
  let j = judgeOver(allBad, [0, 3000]);
  assert.equal(j.global.raised, true);
  j = judgeOver([allBad[0], ['west', ok()]], [4000, 13_999], [], undefined, j.state);
  assert.equal(j.global.raised, true, 'still held');
  j = judgeOver([allBad[0], ['west', ok()]], [14_000], [], undefined, j.state);
  assert.equal(j.global.raised, false);
});

test('relative health: the why names the numbers and the healthy regions', () => {
  const j = judgeOver(
    [
      ['east', ok({ errorRate: 0.3 })],
      ['west', ok()],
    ],
    [0, 3000],
  );
  assert.match(j.regions.get('east')!.why, /error rate 30.0 % vs 0.0 % \(healthy: west\)/);
});
