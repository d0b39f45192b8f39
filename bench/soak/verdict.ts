// From what the soak saw to its verdict: per process and metric, the judgement (judge.ts).
import { type Judgement, judgeFds, judgeMemory, judgeP99, median, type Point, warmupS } from './judge.js';
import type { SoakRun, Track } from './run.js';

export interface ProcessResult {
  name: string;
  region: string;
  pids: number[];
  /**
   * Judged when it ran as one process the whole soak, or (restarted by kong) over its longest life
   * when that lasted a third of the run and two drill cycles; never the lab itself.
   */
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

const points = (subs: Track['subs'], key: 'rssBytes' | 'fds' | 'heapBytes', fromS = 0): Point[] =>
  subs.filter((s) => s[key] !== null).map((s) => ({ t: s.t - fromS, v: s[key]! }));

/** A process's samples under one pid, and how long that life was seen. */
interface Life {
  pid: number;
  subs: Track['subs'];
  startS: number;
  seconds: number;
}

/** The longest of a process's lives (kong kills and restarts its region's processes). */
export function longestLife(t: Track): Life {
  const lives = t.pids.map((pid) => {
    const subs = t.subs.filter((s) => s.pid === pid);
    const startS = subs[0]?.t ?? 0;
    return { pid, subs, startS, seconds: (subs.at(-1)?.t ?? 0) - startS };
  });
  return lives.reduce((a, b) => (b.seconds > a.seconds ? b : a));
}

/** A restarted process is judged over its longest life when that lasted at least this share of the run (and two cycles). */
export const LIFE_SHARE = 1 / 3;

const skip = (j: Judgement, why: string): Judgement => ({ ...j, grows: false, judged: false, why });

const noHeap: Judgement = {
  slopePerHour: null,
  median: null,
  rise: null,
  grows: false,
  judged: false,
  why: 'n/a: no heap on its /metrics',
};

export function verdict(run: SoakRun, o: { totalS: number; intervalS: number; cycleS: number }): SoakResult {
  const failures: string[] = [];
  const processes = [...run.tracks.values()].map((t): ProcessResult => {
    const restarted = t.pids.length > 1;
    // A restarted process: its longest life, on its own clock (a new process warms up again).
    const life = restarted ? longestLife(t) : { pid: t.pids[0], subs: t.subs, startS: 0, seconds: o.totalS };
    const lifeS = restarted ? Math.round(life.seconds) : o.totalS;
    // Two whole cycles too: the descriptor rule compares cycles, and a 2-minute run's last life is one.
    const shortLived = restarted && (life.seconds < LIFE_SHARE * o.totalS || life.seconds < 2 * o.cycleS);
    // The lab's own process keeps every request's measurement for its report: it grows by design.
    const skipped = shortLived
      ? `restarted ${t.pids.length - 1} times by the drills (kong kills its region): its longest life, ${lifeS} s, too short to judge`
      : t.name === 'lab'
        ? 'the lab itself (traffic, recorder): keeps every measurement for its report, shown, not judged'
        : undefined;
    const note =
      skipped ??
      (restarted
        ? `restarted ${t.pids.length - 1} times by the drills: judged over its longest life (pid ${life.pid}, ${lifeS} s)`
        : undefined);
    const judge = (j: Judgement) => (skipped ? skip(j, skipped) : j);
    const heapPoints = points(life.subs, 'heapBytes', life.startS);
    const r: ProcessResult = {
      name: t.name,
      region: t.region,
      pids: t.pids,
      judged: skipped === undefined,
      ...(note ? { note } : {}),
      rss: judge(judgeMemory(points(life.subs, 'rssBytes', life.startS), o.intervalS, lifeS)),
      fds: judge(judgeFds(points(life.subs, 'fds', life.startS), o.intervalS, o.cycleS, lifeS)),
      heap: heapPoints.length > 0 ? judge(judgeMemory(heapPoints, o.intervalS, lifeS)) : noHeap,
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
