// Canary analysis: the Mann-Whitney U test (as Kayenta's judge uses) and the
// judgement of a canary region against baseline regions over the same window.
// Pure; the normal approximation with tie and continuity corrections, the
// same numbers as scipy.stats.mannwhitneyu(method='asymptotic').

export type Alternative = 'two-sided' | 'greater' | 'less';

export interface UTest {
  /** U of the first sample: how often one of its values beats one of the second's (ties count half). */
  u: number;
  /** Null when a sample is empty or every value is tied (nothing to tell apart). */
  pValue: number | null;
}

/** Average ranks (1-based) of `values`, ties sharing the mean of their ranks; also the tie-group sizes. */
function rank(values: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  const ties: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = (i + j) / 2 + 1;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

/**
 * Mann-Whitney U of `x` against `y`. `greater`: the alternative that x tends
 * to be larger than y (a canary's error rate above the baseline's).
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  alternative: Alternative = 'two-sided',
): UTest {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { u: 0, pValue: null };
  const { ranks, ties } = rank([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i];
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const tieTerm = ties.reduce((s, t) => s + t ** 3 - t, 0) / (n * (n - 1));
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm);
  if (variance <= 0) return { u, pValue: null };
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt(variance);
  let p: number;
  if (alternative === 'greater') p = 1 - normalCdf((u - mean - 0.5) / sd);
  else if (alternative === 'less') p = normalCdf((u - mean + 0.5) / sd);
  else p = 2 * (1 - normalCdf((Math.abs(u - mean) - 0.5) / sd));
  return { u, pValue: Math.min(1, Math.max(0, p)) };
}

/** Standard normal CDF through erfc (Numerical Recipes' erfcc, relative error below 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** One edge report's numbers, as the judgement uses them. */
export interface CanarySample {
  at: number;
  errorRate: number;
  p99Ms: number;
  requestsPerS: number;
}

export interface CanaryThresholds {
  /** The canary's error rate may exceed the baseline's by this much (0-1). */
  maxErrorRateIncrease: number;
  /** The canary's p99 may be this many times the baseline's. */
  maxP99Ratio: number;
  /**
   * ...and this many ms above it (default 0): 10 ms against 5 ms is twice as slow but no worse for
   * anyone, and fresh processes or bucket edges make such gaps significant.
   */
  p99Margin?: number;
  /** A metric is worse when the U test says so with p < 1 - confidence. */
  confidence: number;
}

export interface MetricJudgement {
  name: 'error-rate' | 'p99';
  canary: number;
  baseline: number;
  pValue: number | null;
  pass: boolean;
}

export interface CanaryJudgement {
  pass: boolean;
  why: string;
  metrics: MetricJudgement[];
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const median = (xs: readonly number[]) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Judges a canary against its baseline over the same window, as Kayenta does:
 * a metric fails when the canary is significantly worse (one-sided U test,
 * p < 1 - confidence) and the difference is beyond its threshold, so neither
 * noise nor a tiny but steady change stops a release. Reports without traffic
 * say nothing about errors and are left out. Without baseline readings the
 * thresholds alone decide (against 0 errors; p99 is not judged).
 */
export function judgeCanary(
  canary: readonly CanarySample[],
  baseline: readonly CanarySample[],
  t: CanaryThresholds,
): CanaryJudgement {
  const alpha = 1 - t.confidence;
  const served = (s: readonly CanarySample[]) => s.filter((x) => x.requestsPerS > 0);
  const c = served(canary);
  const b = served(baseline);
  const metrics: MetricJudgement[] = [];

  const cErr = c.map((x) => x.errorRate);
  const bErr = b.map((x) => x.errorRate);
  const errTest = mannWhitneyU(cErr, bErr, 'greater');
  const errCanary = mean(cErr);
  const errBaseline = mean(bErr);
  const errBeyond = errCanary - errBaseline > t.maxErrorRateIncrease;
  const errSignificant = b.length === 0 || (errTest.pValue !== null && errTest.pValue < alpha);
  metrics.push({
    name: 'error-rate',
    canary: round(errCanary, 4),
    baseline: round(errBaseline, 4),
    pValue: errTest.pValue === null ? null : round(errTest.pValue, 6),
    pass: !(errBeyond && errSignificant),
  });

  if (b.length > 0) {
    const cP99 = c.map((x) => x.p99Ms);
    const bP99 = b.map((x) => x.p99Ms);
    const p99Test = mannWhitneyU(cP99, bP99, 'greater');
    const p99Canary = median(cP99);
    const p99Baseline = median(bP99);
    const beyond =
      p99Canary > t.maxP99Ratio * Math.max(p99Baseline, 1) && p99Canary > p99Baseline + (t.p99Margin ?? 0);
    const significant = p99Test.pValue !== null && p99Test.pValue < alpha;
    metrics.push({
      name: 'p99',
      canary: round(p99Canary, 1),
      baseline: round(p99Baseline, 1),
      pValue: p99Test.pValue === null ? null : round(p99Test.pValue, 6),
      pass: !(beyond && significant),
    });
  }

  if (c.length === 0) return { pass: false, why: 'no readings with traffic from the canary', metrics };
  const failed = metrics.filter((m) => !m.pass);
  const describe = (m: MetricJudgement) =>
    m.name === 'error-rate'
      ? `error rate ${pct(m.canary)} vs ${pct(m.baseline)} baseline`
      : `p99 ${m.canary} ms vs ${m.baseline} ms baseline`;
  const pText = (m: MetricJudgement) => (m.pValue === null ? '' : ` (p=${m.pValue.toPrecision(2)})`);
  if (failed.length > 0)
    return {
      pass: false,
      why: `worse than baseline: ${failed.map((m) => describe(m) + pText(m)).join('; ')}`,
      metrics,
    };
  return {
    pass: true,
    why: `${metrics.map(describe).join('; ')}${b.length === 0 ? ' (no baseline readings: thresholds only)' : ''}`,
    metrics,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
