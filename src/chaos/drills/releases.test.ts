import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settledAfterMs, settledWindow } from './releases.js';
import { DRILLS } from './scenarios.js';
import { base } from './summary-fixture.js';
import type { OutlierSummary, RolloutSummary, Summary } from './types.js';

const failing = (name: string, s: Partial<Summary>) =>
  DRILLS.get(name)!
    .checks({ ...base, ...s })
    .filter((c) => !c.pass)
    .map((c) => c.name);

/** 30 s at 40 req/s; `failed(second)` failures in each second. */
const seconds = (failed: (second: number) => number) => ({
  total: Array.from({ length: 30 }, () => 40),
  failed: Array.from({ length: 30 }, (_, i) => failed(i)),
});

const outlier = (o: Partial<OutlierSummary>): OutlierSummary => ({
  evacuated: [],
  dialsMoved: [],
  evacuatedAtMs: {},
  dialsMovedAtMs: {},
  restoredAfterMs: null,
  globalAt: null,
  globalWhy: null,
  decisions: [],
  ...o,
});

const rollout = (r: Partial<RolloutSummary>): RolloutSummary => ({
  id: 'r1',
  version: 'v3',
  result: 'done',
  regionsReached: [],
  judgements: [],
  message: '',
  ...r,
});

const deploy = (t: number, region: string, version: string, by = 'drill') => [
  { t, region, version, by, phase: 'start' },
  { t: t + 2000, region, version, by, phase: 'done' },
];

const served = (changes: Record<string, [number, string[]][]>) =>
  Object.fromEntries(
    Object.entries(changes).map(([r, c]) => [r, c.map(([t, versions]) => ({ t, versions }))]),
  );

test('settledWindow: 15 s after the deploy, or the last 3 s before the fix in a short run', () => {
  assert.deepEqual(settledWindow(10_000, 42_000), [25_000, 42_000]);
  assert.deepEqual(settledWindow(10_000, 21_000), [18_000, 21_000]);
  assert.deepEqual(settledWindow(10_001, 21_000.4), [18_000, 21_000.4]);
});

test('settledAfterMs: from when every 3 s window stays under 1 %', () => {
  const s = { ...base, seconds: seconds((i) => (i >= 10 && i < 16 ? 8 : 0)) };
  assert.equal(settledAfterMs(s, 10_000, 21_000), 6000);
  const never = { ...base, seconds: seconds((i) => (i >= 10 ? 8 : 0)) };
  assert.equal(settledAfterMs(never, 10_000, 21_000), null);
});

test('release drills judge what was measured', () => {
  const badDeployDeploys = [...deploy(10_000, 'us-east-1', 'v3'), ...deploy(21_000, 'us-east-1', 'v1')];
  const cases: { name: string; drill: string; s: Partial<Summary>; expect: string[] }[] = [
    {
      name: 'bad-deploy: evacuated, settled, restored',
      drill: 'bad-deploy',
      s: {
        seconds: seconds((i) => (i >= 10 && i < 15 ? 10 : 0)),
        versions: {
          deploys: badDeployDeploys,
          served: served({
            'us-east-1': [
              [0, ['v1']],
              [11_000, ['v3']],
            ],
          }),
        },
        outlier: outlier({ evacuated: ['us-east-1'], restoredAfterMs: 4000 }),
      },
      expect: [],
    },
    {
      name: 'bad-deploy: nobody moved the traffic, errors go on',
      drill: 'bad-deploy',
      s: {
        seconds: seconds((i) => (i >= 10 && i < 21 ? 10 : 0)),
        versions: { deploys: badDeployDeploys, served: served({ 'us-east-1': [[11_000, ['v3']]] }) },
        outlier: outlier({}),
      },
      expect: [
        'failed requests (POSTs included, shed counted) back under 1 % within 15 s of the deploy',
        'control evacuated us-east-1 as an outlier',
        'restored after v1 went back',
      ],
    },
    {
      name: 'global-bad: held and raised global',
      drill: 'global-bad',
      s: {
        versions: {
          deploys: [],
          served: served({ 'us-east-1': [[11_000, ['v3']]], 'us-west-2': [[11_000, ['v1', 'v3']]] }),
        },
        outlier: outlier({ globalAt: 14_000, globalWhy: 'all regions bad alike' }),
      },
      expect: [],
    },
    {
      name: 'global-bad: evacuated one, no global',
      drill: 'global-bad',
      s: {
        versions: { deploys: [], served: served({ 'us-east-1': [[11_000, ['v3']]] }) },
        outlier: outlier({ evacuated: ['us-west-2'], evacuatedAtMs: { 'us-west-2': 15_000 } }),
      },
      expect: [
        'every region served v3',
        'no region evacuated while all were bad: control held the dials',
        'control raised global',
      ],
    },
    {
      name: 'global-bad: a region that got v1 last evacuated after the fix: not judged',
      drill: 'global-bad',
      s: {
        versions: {
          deploys: deploy(21_000, 'us-east-1', 'v1'),
          served: served({ 'us-east-1': [[11_000, ['v3']]], 'us-west-2': [[11_000, ['v3']]] }),
        },
        outlier: outlier({
          globalAt: 14_000,
          evacuated: ['us-west-2'],
          evacuatedAtMs: { 'us-west-2': 24_000 },
          dialsMoved: ['us-west-2'],
          dialsMovedAtMs: { 'us-west-2': 24_000 },
        }),
      },
      expect: [],
    },
    {
      name: 'global-bad: global raised, but a dial moved (DOWN)',
      drill: 'global-bad',
      s: {
        versions: {
          deploys: [],
          served: served({ 'us-east-1': [[11_000, ['v3']]], 'us-west-2': [[11_000, ['v3']]] }),
        },
        outlier: outlier({
          globalAt: 14_000,
          dialsMoved: ['us-east-1'],
          dialsMovedAtMs: { 'us-east-1': 16_000 },
        }),
      },
      expect: ['no region evacuated while all were bad: control held the dials'],
    },
    {
      name: 'rollout-good: done, everything on v2, nothing failed',
      drill: 'rollout-good',
      s: {
        rollout: rollout({ version: 'v2', regionsReached: ['us-east-1', 'us-west-2'] }),
        versions: {
          deploys: [],
          served: served({
            'us-east-1': [
              [0, ['v1']],
              [9000, ['v2']],
            ],
            'us-west-2': [[20_000, ['v2']]],
          }),
        },
      },
      expect: [],
    },
    {
      name: 'rollout-good: a region left on v1, one failure, no rollout record',
      drill: 'rollout-good',
      s: {
        requests: { ...base.requests, failed: 1 },
        versions: {
          deploys: [],
          served: served({ 'us-east-1': [[9000, ['v2']]], 'us-west-2': [[0, ['v1']]] }),
        },
      },
      expect: ['the rollout finished', 'every region ends on v2', 'no failed request (shed counted)'],
    },
    {
      name: 'rollout-bad: caught in the canary of the first wave',
      drill: 'rollout-bad',
      s: {
        requests: { ...base.requests, total: 1000, failed: 4 },
        rollout: rollout({
          result: 'rolled-back',
          regionsReached: ['us-east-1'],
          judgements: [{ at: 1, region: 'us-east-1', dial: 25, pass: false, why: 'error rate 20 % vs 0 %' }],
        }),
        versions: {
          deploys: deploy(4000, 'us-east-1', 'v3', 'webhook'),
          served: served({
            'us-east-1': [
              [5000, ['v3']],
              [9000, ['v1']],
            ],
            'us-west-2': [[0, ['v1']]],
          }),
        },
      },
      expect: [],
    },
    {
      name: 'rollout-bad: ran everywhere and finished',
      drill: 'rollout-bad',
      s: {
        requests: { ...base.requests, total: 1000, failed: 50 },
        rollout: rollout({ regionsReached: ['us-east-1', 'us-west-2'] }),
        versions: {
          deploys: deploy(15_000, 'us-west-2', 'v3', 'webhook'),
          served: served({ 'us-east-1': [[5000, ['v3']]], 'us-west-2': [[16_000, ['v3']]] }),
        },
      },
      expect: [
        'rolled back',
        "caught in the first wave's canary (us-east-1)",
        'later waves never ran v3',
        'us-east-1 is back on v1',
        'failed requests (shed counted) under 0.50 % of the run',
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(failing(c.drill, c.s), c.expect, c.name);
});
