// Relative health: is a region clearly worse than the others (a bad deploy),
// or are all of them bad alike (a shared dependency)? Pure: readings and time
// are arguments, the hysteresis state goes in and comes out.

/** What a region's edge reported, as far as judging goes. */
export interface RegionReading {
  /** Share of the region's origin attempts that failed (before any retry elsewhere), 0-1. */
  errorRate: number;
  p99Ms: number;
  /** Requests/s its origins received: the volume the error rate stands on. */
  requestsPerS: number;
}

export interface RelativeThresholds {
  minRequestsPerSecond: number;
  errorRateMargin: number;
  errorRateRatio: number;
  p99Ratio: number;
  p99MarginMs: number;
  fallAfterMs: number;
  riseAfterMs: number;
  /** Above these a region is bad in absolute terms (the gates'): it cannot be a baseline, and all bad is `global`. */
  healthyErrorRate: number;
  healthyP99Ms: number;
}

/** Per region: since when it has been clearly worse / fine again, without a break. */
export interface RegionTrack {
  worseSince: number | null;
  fineSince: number | null;
}

export interface RelativeState {
  regions: Map<string, RegionTrack>;
  /** Since when every judged region has been bad / not all bad. */
  allBadSince: number | null;
  notAllBadSince: number | null;
  global: boolean;
}

export const initialRelativeState = (): RelativeState => ({
  regions: new Map(),
  allBadSince: null,
  notAllBadSince: null,
  global: false,
});

/**
 * unjudged: no fresh report or too little traffic. worse: clearly worse, not for fallAfter yet.
 * outlier: clearly worse for fallAfter. bad: above the absolute thresholds with no healthy region
 * to compare with. recovering / recovered: an evacuated region fine again, for less / at least riseAfter.
 */
export type Verdict = 'unjudged' | 'fine' | 'worse' | 'outlier' | 'bad' | 'recovering' | 'recovered';

export interface RegionJudgement {
  region: string;
  verdict: Verdict;
  why: string;
  reading: RegionReading | null;
  /** A fresh reading under the absolute thresholds, whatever the volume: fit to take traffic. */
  healthy: boolean;
  /** The healthy other regions' pooled error rate and highest p99; null when there is none. */
  baseline: { errorRate: number; p99Ms: number; regions: string[] } | null;
}

export interface RelativeJudgement {
  state: RelativeState;
  regions: Map<string, RegionJudgement>;
  /** Every judged region bad alike: hold the dials. */
  global: { raised: boolean; why: string };
}

export interface RelativeInput {
  /** Every region, in config order. */
  regions: readonly string[];
  /** Fresh readings; a region without one is unjudged. */
  readings: ReadonlyMap<string, RegionReading>;
  /** Regions evacuated automatically as outliers: judged for recovery instead. */
  evacuated: ReadonlySet<string>;
  now: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const ms = (x: number) => `${Math.round(x)} ms`;

export const isBad = (r: RegionReading, t: RelativeThresholds) =>
  r.errorRate > t.healthyErrorRate || r.p99Ms > t.healthyP99Ms;

/** Why `r` is clearly worse than the baseline, or null when it is not. */
export function worseThan(
  r: RegionReading,
  base: { errorRate: number; p99Ms: number },
  t: RelativeThresholds,
): string | null {
  const reasons: string[] = [];
  if (r.errorRate > base.errorRate + t.errorRateMargin && r.errorRate > base.errorRate * t.errorRateRatio)
    reasons.push(`error rate ${pct(r.errorRate)} vs ${pct(base.errorRate)}`);
  if (r.p99Ms > base.p99Ms * t.p99Ratio && r.p99Ms > base.p99Ms + t.p99MarginMs)
    reasons.push(`p99 ${ms(r.p99Ms)} vs ${ms(base.p99Ms)}`);
  return reasons.length > 0 ? reasons.join(', ') : null;
}

/** The healthy judged regions other than `region`: their pooled error rate and their highest p99. */
function baselineFor(region: string, judged: ReadonlyMap<string, RegionReading>, t: RelativeThresholds) {
  let requests = 0;
  let errors = 0;
  let p99 = 0;
  const regions: string[] = [];
  for (const [id, r] of judged) {
    if (id === region || isBad(r, t)) continue;
    requests += r.requestsPerS;
    errors += r.errorRate * r.requestsPerS;
    p99 = Math.max(p99, r.p99Ms);
    regions.push(id);
  }
  return regions.length === 0
    ? null
    : { errorRate: requests > 0 ? errors / requests : 0, p99Ms: p99, regions };
}

/** One look at every region: per region a verdict, and whether the condition is global. */
export function judgeRelative(
  prev: RelativeState,
  input: RelativeInput,
  t: RelativeThresholds,
): RelativeJudgement {
  const { now } = input;
  const judged = new Map<string, RegionReading>();
  for (const id of input.regions) {
    const r = input.readings.get(id);
    if (r && r.requestsPerS >= t.minRequestsPerSecond) judged.set(id, r);
  }
  const regions = new Map<string, RegionJudgement>();
  const tracks = new Map<string, RegionTrack>();
  for (const id of input.regions) {
    const reading = input.readings.get(id) ?? null;
    const before = prev.regions.get(id) ?? { worseSince: null, fineSince: null };
    const r = judged.get(id);
    if (!r) {
      tracks.set(id, { worseSince: null, fineSince: null });
      const why = reading
        ? `${reading.requestsPerS.toFixed(1)} req/s at its origins, below ${t.minRequestsPerSecond} to judge`
        : 'no recent report';
      const healthy = reading !== null && !isBad(reading, t);
      regions.set(id, { region: id, verdict: 'unjudged', why, reading, baseline: null, healthy });
      continue;
    }
    const baseline = baselineFor(id, judged, t);
    const worse = baseline
      ? worseThan(r, baseline, t)
      : isBad(r, t)
        ? `error rate ${pct(r.errorRate)}, p99 ${ms(r.p99Ms)}, no healthy region to compare with`
        : null;
    const evacuated = input.evacuated.has(id);
    const track: RegionTrack = {
      worseSince: worse ? (before.worseSince ?? now) : null,
      fineSince: worse ? null : (before.fineSince ?? now),
    };
    tracks.set(id, track);
    const against = baseline ? ` (healthy: ${baseline.regions.join(', ')})` : '';
    let verdict: Verdict;
    let why: string;
    if (worse && !baseline) {
      verdict = 'bad';
      why = worse;
    } else if (worse) {
      const long = now - track.worseSince! >= t.fallAfterMs;
      verdict = long ? 'outlier' : 'worse';
      why = `${worse}${against}${long ? '' : `, for ${now - track.worseSince!} ms`}`;
    } else {
      const long = now - track.fineSince! >= t.riseAfterMs;
      verdict = evacuated ? (long ? 'recovered' : 'recovering') : 'fine';
      why = baseline
        ? `error rate ${pct(r.errorRate)}, p99 ${ms(r.p99Ms)}: like the others${against}`
        : `error rate ${pct(r.errorRate)}, p99 ${ms(r.p99Ms)}`;
      if (evacuated) why += `, fine for ${now - track.fineSince!} ms`;
    }
    regions.set(id, { region: id, verdict, why, reading, baseline, healthy: !isBad(r, t) });
  }
  const bad = allBad(judged, input, t);
  const g = nextGlobal(prev, bad !== null, now, t);
  const why = bad
    ? `every region serving is bad alike: ${bad}`
    : g.global
      ? `not all bad for ${now - g.notAllBadSince!} ms of ${t.riseAfterMs} ms yet`
      : '';
  return { state: { ...g, regions: tracks }, regions, global: { raised: g.global, why } };
}

/**
 * All bad: every judged region is bad, and they are at least two, or the one left serving while the
 * others are evacuated. Moving traffic between them would spread load, not contain the fault.
 */
function allBad(judged: ReadonlyMap<string, RegionReading>, input: RelativeInput, t: RelativeThresholds) {
  const bad = [...judged].filter(([, r]) => isBad(r, t));
  if (bad.length === 0 || bad.length < judged.size) return null;
  const serving = input.regions.filter((id) => !input.evacuated.has(id));
  if (bad.length < 2 && !serving.every((id) => judged.has(id))) return null;
  return bad.map(([id, r]) => `${id} error rate ${pct(r.errorRate)}, p99 ${ms(r.p99Ms)}`).join('; ');
}

/** Raised after fallAfter of all bad; cleared after riseAfter of not all bad. */
function nextGlobal(prev: RelativeState, bad: boolean, now: number, t: RelativeThresholds) {
  const allBadSince = bad ? (prev.allBadSince ?? now) : null;
  const notAllBadSince = bad ? null : (prev.notAllBadSince ?? now);
  const global = prev.global
    ? !(notAllBadSince !== null && now - notAllBadSince >= t.riseAfterMs)
    : allBadSince !== null && now - allBadSince >= t.fallAfterMs;
  return { allBadSince, notAllBadSince, global };
}
