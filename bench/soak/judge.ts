// Does a series grow without bound? Pure functions over (seconds, value) points.
//
// The rule, after warm-up (the first 20 % of the run or 5 minutes, whichever is less: a new Node
// process grows for its first minutes, JIT code, caches, pools, V8 sizing its heap, and a 30-minute
// run keeps 25 minutes to judge):
// - memory (RSS, heap): each interval's minimum (the floor after GC, so a sawtooth counts by its
//   floor, not its peaks). It grows without bound when the least-squares line over those floors rises
//   by more than 10 % of their mean over the judged span AND it is not levelling off: the slope of
//   the second half is at least half the slope of the first (a warm-up that flattens passes, a leak
//   keeps its slope). Memory is judged only when at least 10 minutes follow the warm-up: young
//   processes still grow (the 2-minute runs saw origins rise 34-44 % in 90 s) and a quiet process
//   collects garbage every minute or two, so a shorter span cannot tell a leak from either.
// - file descriptors: the count follows the drills (a killed region's connections close, a healed
//   cut opens many), so floors are compared at the same point of the drill cycle: the minimum of
//   each whole cycle after warm-up, flat when the median of the later half of those floors is at most
//   5 above the median of the earlier half (one leaked per drill adds 3 a cycle; one cycle whose floor
//   dips, as the 30-minute run's edge did once to 51 among 95-108, moves no median). A run with fewer than two such cycles cannot tell a drill's phase from a
//   trend: there, each interval's minimum, and it grows only when the median of the last third
//   goes more than 5 past every floor seen before it.
// - users' p99: the median of each whole drill cycle (a kong outage makes one interval slow; a cycle
//   holds every drill once); the memory rule with a 50 % rise, judged when at least 4 whole cycles
//   follow the warm-up.

export interface Point {
  /** Seconds since the run started. */
  t: number;
  v: number;
}

export interface Judgement {
  /** Least-squares slope of the judged points, per hour (value units per hour); null when not judged. */
  slopePerHour: number | null;
  /** Median of the judged points. */
  median: number | null;
  /** How far the fitted line rises over the judged span, relative to the mean (memory, p99). */
  rise: number | null;
  grows: boolean;
  judged: boolean;
  why: string;
}

export const MEMORY_RISE = 0.1;
/** Memory is judged only over at least this many seconds after warm-up. */
export const MEMORY_SPAN_S = 600;
export const P99_RISE = 0.5;
export const FD_SLACK = 5;

/** Warm-up left out of the judgement: the first 20 % of the run, at most 5 minutes. */
export const warmupS = (totalS: number) => Math.min(0.2 * totalS, 300);

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Least-squares slope (value per second); 0 for fewer than two distinct times. */
export function slope(points: readonly Point[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mv = points.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * One point per group of `groupS` seconds, (k·groupS, (k+1)·groupS] (a sample taken at the end of
 * an interval belongs to it), at the group's end, its value the minimum or the median of its points.
 */
export function perGroup(points: readonly Point[], groupS: number, reduce: 'min' | 'median'): Point[] {
  const groups = new Map<number, number[]>();
  for (const p of points) {
    const k = Math.max(0, Math.ceil(p.t / groupS) - 1);
    const list = groups.get(k) ?? [];
    list.push(p.v);
    groups.set(k, list);
  }
  return [...groups]
    .sort(([a], [b]) => a - b)
    .map(([k, vs]) => ({ t: (k + 1) * groupS, v: reduce === 'min' ? Math.min(...vs) : median(vs) }));
}

const notJudged = (why: string, points: readonly Point[] = []): Judgement => ({
  slopePerHour: null,
  median: points.length > 0 ? median(points.map((p) => p.v)) : null,
  rise: null,
  grows: false,
  judged: false,
  why,
});

/** The rising-line rule (memory, p99) over points already reduced to one per group. */
export function judgeRise(points: readonly Point[], fromS: number, maxRise: number): Judgement {
  const judged = points.filter((p) => p.t > fromS);
  if (judged.length < 4) return notJudged(`${judged.length} points after warm-up, 4 needed`, judged);
  const s = slope(judged);
  const span = judged[judged.length - 1].t - judged[0].t;
  const mean = judged.reduce((a, p) => a + p.v, 0) / judged.length;
  const rise = mean === 0 ? 0 : (s * span) / Math.abs(mean);
  const mid = judged[0].t + span / 2;
  const s1 = slope(judged.filter((p) => p.t <= mid));
  const s2 = slope(judged.filter((p) => p.t >= mid));
  const levelling = s2 < 0.5 * s1;
  const grows = rise > maxRise && s2 > 0 && !levelling;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return {
    slopePerHour: s * 3600,
    median: median(judged.map((p) => p.v)),
    rise,
    grows,
    judged: true,
    why: grows
      ? `rises ${pct(rise)} of its mean over ${Math.round(span)} s and keeps rising (second half ${(s2 * 3600).toPrecision(3)}/h vs first ${(s1 * 3600).toPrecision(3)}/h)`
      : rise > maxRise
        ? `rises ${pct(rise)} but levels off (second half ${(s2 * 3600).toPrecision(3)}/h vs first ${(s1 * 3600).toPrecision(3)}/h)`
        : `rises ${pct(rise)} of its mean over ${Math.round(span)} s (limit ${pct(maxRise)})`,
  };
}

/** Memory: per-interval floors, then the rising-line rule. */
export function judgeMemory(points: readonly Point[], intervalS: number, totalS: number): Judgement {
  const from = warmupS(totalS);
  const floors = perGroup(points, intervalS, 'min');
  if (totalS - from < MEMORY_SPAN_S)
    return notJudged(
      `${Math.round(totalS - from)} s after warm-up: memory is judged from ${MEMORY_SPAN_S} s on`,
      floors.filter((p) => p.t > from),
    );
  return judgeRise(floors, from, MEMORY_RISE);
}

/** File descriptors: per-cycle floors, first vs last; a run too short for two cycles: past everything before. */
export function judgeFds(
  points: readonly Point[],
  intervalS: number,
  cycleS: number,
  totalS: number,
): Judgement {
  const from = warmupS(totalS);
  const whole = Math.floor(totalS / cycleS) * cycleS;
  const cycles = perGroup(
    points.filter((p) => p.t <= whole),
    cycleS,
    'min',
  ).filter((p) => p.t - cycleS >= from);
  if (cycles.length >= 2) {
    const half = Math.floor(cycles.length / 2);
    const first = median(cycles.slice(0, half).map((p) => p.v));
    const last = median(cycles.slice(-half).map((p) => p.v));
    return fdGrowth(
      cycles,
      first,
      last,
      `${first} -> ${last} open (median floor of the earlier and later half of ${cycles.length} cycles; at most +${FD_SLACK})`,
    );
  }
  const judged = perGroup(points, intervalS, 'min').filter((p) => p.t > from);
  if (judged.length < 3) return notJudged(`${judged.length} points after warm-up, 3 needed`, judged);
  const third = Math.max(1, Math.floor(judged.length / 3));
  const before = Math.max(...judged.slice(0, -third).map((p) => p.v));
  const last = median(judged.slice(-third).map((p) => p.v));
  return fdGrowth(
    judged,
    before,
    last,
    `last third ${last} open, highest floor before it ${before} (at most +${FD_SLACK}; fewer than two whole cycles after warm-up)`,
  );
}

/** Descriptors grow when the later level is more than FD_SLACK above the earlier one. */
function fdGrowth(series: Point[], earlier: number, later: number, why: string): Judgement {
  return {
    slopePerHour: slope(series) * 3600,
    median: median(series.map((p) => p.v)),
    rise: earlier === 0 ? null : (later - earlier) / earlier,
    grows: later - earlier > FD_SLACK,
    judged: true,
    why,
  };
}

/** Users' p99: one median per whole cycle, the rising-line rule at 50 %, when 3 whole cycles follow the warm-up. */
export function judgeP99(points: readonly Point[], cycleS: number, totalS: number): Judgement {
  const whole = Math.floor(totalS / cycleS) * cycleS;
  const cycles = perGroup(
    points.filter((p) => p.t <= whole),
    cycleS,
    'median',
  ).filter((p) => p.t - cycleS >= warmupS(totalS));
  if (cycles.length < 4)
    return notJudged(`${cycles.length} whole drill cycles after warm-up, 4 needed`, points);
  return judgeRise(cycles, 0, P99_RISE);
}
