// From what the soak saw to its verdict: per process and metric, the judgement (judge.ts).
import { type Judgement, judgeFds, judgeMemory, judgeP99, median, type Point, warmupS } from './judge.js';
import type { SoakRun, Track } from './run.js';

export interface ProcessResult {
  name: string;
  region: string;
  pids: number[];
  /** Judged only when it ran as one process the whole soak (and is part of the deployment). */
  judged: boolean;
  note?: string;
  rss: Judgement;
  fds: Judgement;
  heap: Judgement;
}

export interface SoakResult {
  warmupS: number;
  processes: ProcessResult[];
  p99: Judgement;
  failures: string[];
}

const points = (t: Track, key: 'rssBytes' | 'fds' | 'heapBytes'): Point[] =>
  t.subs.filter((s) => s[key] !== null).map((s) => ({ t: s.t, v: s[key]! }));

const skip = (j: Judgement, why: string): Judgement => ({ ...j, grows: false, judged: false, why });

const noHeap: Judgement = {
  slopePerHour: null,
  median: null,
  rise: null,
  grows: false,
  judged: false,
  why: 'n/a: no nodejs_heap_size_used_bytes on its /metrics',
};

export function verdict(run: SoakRun, o: { totalS: number; intervalS: number; cycleS: number }): SoakResult {
  const failures: string[] = [];
  const processes = [...run.tracks.values()].map((t): ProcessResult => {
    const restarted = t.pids.length > 1;
    // The lab's own process keeps every request's measurement for its report: it grows by design.
    const note = restarted
      ? `restarted ${t.pids.length - 1} times by the drills (kong kills its region): each life too short to judge`
      : t.name === 'lab'
        ? 'the lab itself (traffic, recorder): keeps every measurement for its report, shown, not judged'
        : undefined;
    const judge = (j: Judgement) => (note ? skip(j, note) : j);
    const heapPoints = points(t, 'heapBytes');
    const r: ProcessResult = {
      name: t.name,
      region: t.region,
      pids: t.pids,
      judged: note === undefined,
      ...(note ? { note } : {}),
      rss: judge(judgeMemory(points(t, 'rssBytes'), o.intervalS, o.totalS)),
      fds: judge(judgeFds(points(t, 'fds'), o.intervalS, o.cycleS, o.totalS)),
      heap: heapPoints.length > 0 ? judge(judgeMemory(heapPoints, o.intervalS, o.totalS)) : noHeap,
    };
    for (const m of ['rss', 'fds', 'heap'] as const)
      if (r[m].grows) failures.push(`${t.name} ${m}: ${r[m].why}`);
    return r;
  });
  const p99Points = run.users.filter((u) => u.p99Ms !== null).map((u) => ({ t: u.t, v: u.p99Ms! }));
  const p99 = judgeP99(p99Points, o.cycleS, o.totalS);
  if (p99.grows) failures.push(`users' p99: ${p99.why}`);
  if (p99.median === null && p99Points.length > 0) p99.median = median(p99Points.map((p) => p.v));
  return { warmupS: warmupS(o.totalS), processes, p99, failures };
}
