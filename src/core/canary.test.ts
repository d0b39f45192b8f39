import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Alternative, type CanarySample, judgeCanary, mannWhitneyU, normalCdf } from './canary.js';

// Expected values from scipy.stats.mannwhitneyu(x, y, alternative=..., method='asymptotic', use_continuity=True).
const uCases: { name: string; x: number[]; y: number[]; alt: Alternative; u: number; p: number }[] = [
  // The textbook example (n1=5, n2=4): U=17, U'=3; the table's two-sided 5 % critical value is 1, not significant.
  {
    name: 'textbook, two-sided',
    x: [19, 22, 16, 29, 24],
    y: [20, 11, 17, 12],
    alt: 'two-sided',
    u: 17,
    p: 0.11134688653314041,
  },
  {
    name: 'textbook, greater',
    x: [19, 22, 16, 29, 24],
    y: [20, 11, 17, 12],
    alt: 'greater',
    u: 17,
    p: 0.055673443266570206,
  },
  {
    name: 'textbook, less',
    x: [19, 22, 16, 29, 24],
    y: [20, 11, 17, 12],
    alt: 'less',
    u: 17,
    p: 0.9669037101389033,
  },
  {
    name: 'ties, two-sided',
    x: [1, 2, 2, 3, 3, 3],
    y: [2, 3, 4, 4, 5],
    alt: 'two-sided',
    u: 5.5,
    p: 0.08871369199677616,
  },
  {
    name: 'ties, less',
    x: [1, 2, 2, 3, 3, 3],
    y: [2, 3, 4, 4, 5],
    alt: 'less',
    u: 5.5,
    p: 0.04435684599838808,
  },
  {
    name: 'ties, greater',
    x: [1, 2, 2, 3, 3, 3],
    y: [2, 3, 4, 4, 5],
    alt: 'greater',
    u: 5.5,
    p: 0.970711726568604,
  },
  {
    name: 'a bad canary: 30 % errors vs 0',
    x: Array(10).fill(0.3),
    y: Array(10).fill(0),
    alt: 'greater',
    u: 100,
    p: 7.968955844033122e-6,
  },
  { name: 'three against three', x: [3, 4, 5], y: [1, 2, 2], alt: 'greater', u: 9, p: 0.03826125023752961 },
];

for (const c of uCases) {
  test(`Mann-Whitney U: ${c.name}`, () => {
    const r = mannWhitneyU(c.x, c.y, c.alt);
    assert.equal(r.u, c.u);
    assert.ok(r.pValue !== null);
    assert.ok(Math.abs(r.pValue - c.p) <= 1e-6 + 1e-5 * c.p, `p ${r.pValue} vs ${c.p}`);
  });
}

test('Mann-Whitney U: nothing to tell apart gives no p-value', () => {
  assert.equal(mannWhitneyU([], [1, 2]).pValue, null);
  assert.equal(mannWhitneyU([0, 0, 0], [0, 0]).pValue, null);
});

test('normal CDF at known points', () => {
  for (const [z, p] of [
    [0, 0.5],
    [1.959963985, 0.975],
    [-1.644853627, 0.05],
    [3, 0.998650102],
  ])
    assert.ok(Math.abs(normalCdf(z) - p) < 1e-7, `${z}: ${normalCdf(z)}`);
});

const T = { maxErrorRateIncrease: 0.02, maxP99Ratio: 1.5, confidence: 0.95 };
const samples = (errorRates: number[], p99s: number | number[] = 20, requestsPerS = 100): CanarySample[] =>
  errorRates.map((e, i) => ({
    at: i * 1000,
    errorRate: e,
    p99Ms: Array.isArray(p99s) ? p99s[i] : p99s,
    requestsPerS,
  }));
const ten = (x: number) => Array(10).fill(x);

const judgements: {
  name: string;
  canary: CanarySample[];
  baseline: CanarySample[];
  pass: boolean;
  failed: string[];
  why: RegExp;
}[] = [
  {
    name: 'same as baseline',
    canary: samples(ten(0.001)),
    baseline: samples(ten(0.001)),
    pass: true,
    failed: [],
    why: /error rate 0.1 %/,
  },
  {
    name: '30 % errors',
    canary: samples(ten(0.3)),
    baseline: samples(ten(0)),
    pass: false,
    failed: ['error-rate'],
    why: /error rate 30.0 % vs 0.0 % baseline \(p=/,
  },
  {
    name: 'a small steady increase, within the threshold',
    canary: samples(ten(0.01)),
    baseline: samples(ten(0)),
    pass: true,
    failed: [],
    why: /error rate 1.0 %/,
  },
  {
    name: 'one noisy report beyond the threshold is not significant',
    canary: samples([0.5, 0, 0, 0, 0]),
    baseline: samples([0, 0, 0.01, 0, 0]),
    pass: true,
    failed: [],
    why: /error rate 10.0 %/,
  },
  {
    name: 'p99 three times the baseline',
    canary: samples(ten(0), [60, 62, 61, 65, 59, 60, 63, 64, 61, 60]),
    baseline: samples(ten(0), [20, 21, 19, 22, 20, 20, 21, 19, 20, 22]),
    pass: false,
    failed: ['p99'],
    why: /p99 61 ms vs 20 ms baseline/,
  },
  {
    name: 'p99 a little higher, within the ratio',
    canary: samples(ten(0), [24, 25, 26, 24, 25, 25, 26, 24, 25, 25]),
    baseline: samples(ten(0), [20, 21, 19, 22, 20, 20, 21, 19, 20, 22]),
    pass: true,
    failed: [],
    why: /p99 25 ms/,
  },
  {
    name: 'the canary served nothing',
    canary: samples(ten(0), 20, 0),
    baseline: samples(ten(0)),
    pass: false,
    failed: [],
    why: /no readings with traffic/,
  },
  {
    name: 'no baseline: thresholds alone, bad',
    canary: samples(ten(0.3)),
    baseline: [],
    pass: false,
    failed: ['error-rate'],
    why: /30.0 %/,
  },
  {
    name: 'no baseline: thresholds alone, fine',
    canary: samples(ten(0)),
    baseline: [],
    pass: true,
    failed: [],
    why: /thresholds only/,
  },
];

for (const c of judgements) {
  test(`canary judgement: ${c.name}`, () => {
    const j = judgeCanary(c.canary, c.baseline, T);
    assert.equal(j.pass, c.pass, j.why);
    assert.deepEqual(
      j.metrics.filter((m) => !m.pass).map((m) => m.name),
      c.failed,
    );
    assert.match(j.why, c.why);
  });
}

test('p99 twice the baseline but a few ms above it passes with a margin (a good v2 in the lab: 10 ms vs 5 ms)', () => {
  const canary = samples(ten(0), [10, 10, 10, 7.5, 10, 10, 10, 7.5, 10, 10]);
  const baseline = samples(ten(0), [5, 5, 7.5, 5, 5, 5, 5, 5, 7.5, 5]);
  assert.equal(judgeCanary(canary, baseline, T).pass, false, 'no margin: twice as slow, significant');
  assert.equal(judgeCanary(canary, baseline, { ...T, p99Margin: 50 }).pass, true);
  const slow = samples(ten(0), [260, 255, 262, 258, 260, 261, 259, 260, 257, 262]);
  assert.equal(
    judgeCanary(slow, baseline, { ...T, p99Margin: 50 }).pass,
    false,
    '+250 ms is beyond the margin',
  );
});
