// Runs the packed and installed `meridian lab` with kong, split-brain and evacuate in turn on one
// deployment, and looks at each of its processes every few seconds through the lab's GET /status.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { UsersWindow } from '../../src/lab/recorder.js';
import { look, withDeadline } from './sample.js';

export interface SoakPlan {
  bin: string;
  configFile: string;
  dir: string;
  /** Seconds of drills (whole slots). */
  totalS: number;
  slotS: number;
  intervalS: number;
  rate: number;
  drills: readonly string[];
  say: (line: string) => void;
}

export interface SubSample {
  t: number;
  pid: number;
  rssBytes: number | null;
  fds: number | null;
  heapBytes: number | null;
}

export interface Track {
  name: string;
  region: string;
  /** Every pid it ran as, in order: more than one when a drill killed and restarted it. */
  pids: number[];
  subs: SubSample[];
}

export interface UsersSample {
  t: number;
  requests: number;
  failed: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface SoakRun {
  tracks: Map<string, Track>;
  users: UsersSample[];
  labExit: number | null;
  labLog: string;
}

interface Status {
  lab: number;
  processes: { name: string; region: string; pid: number; metrics?: string }[];
  users: UsersWindow | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The number of samples a run implies: one at the end of every whole interval. */
export const expectedSamples = (totalS: number, intervalS: number) => Math.floor(totalS / intervalS);

function startLab(p: SoakPlan, logFile: string): { child: ChildProcess; exited: Promise<number | null> } {
  const args = [
    'lab',
    '--config',
    p.configFile,
    '--scenario',
    p.drills.join(','),
    '--duration',
    String(p.slotS),
    '--repeat-for',
    String(p.totalS),
    '--rate',
    String(p.rate),
    '--report',
    join(p.dir, 'lab'),
  ];
  p.say(`$ ${p.bin} ${args.join(' ')}`);
  const child = spawn(p.bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const log = createWriteStream(logFile);
  child.stderr!.pipe(log, { end: false });
  // The lab's line a second goes to the log only; what it says otherwise is shown.
  createInterface({ input: child.stdout! }).on('line', (line) => {
    log.write(`${line}\n`);
    if (!/^repeat (t=|waiting)/.test(line) && line.trim() !== '') p.say(`  lab: ${line}`);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      log.end();
      resolve(code);
    }),
  );
  return { child, exited };
}

function status(admin: string, token: string, from: number): Promise<Status | null> {
  const read = async () => {
    const res = await fetch(`${admin}/status?from=${from}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(3000),
    });
    return res.ok ? ((await res.json()) as Status) : null;
  };
  return withDeadline(read(), 3500);
}

/** Until the lab's users run (its GET /status answers with users), or the lab exits. */
async function untilRunning(
  labDir: string,
  exited: () => boolean,
): Promise<{ admin: string; token: string }> {
  const endpoints = join(labDir, 'endpoints.json');
  const tokenFile = join(labDir, 'secrets', 'lab-deploy.token');
  for (;;) {
    if (exited())
      throw new Error(`the lab exited before its users started (see ${join(labDir, '..', 'lab.log')})`);
    if (existsSync(endpoints) && existsSync(tokenFile)) {
      const admin = (JSON.parse(readFileSync(endpoints, 'utf8')) as { admin: string }).admin;
      const token = readFileSync(tokenFile, 'utf8').trim();
      const s = await status(admin, token, 0);
      if (s?.users) return { admin, token };
    }
    await sleep(250);
  }
}

export async function runSoak(p: SoakPlan): Promise<SoakRun> {
  const labLog = join(p.dir, 'lab.log');
  const { child, exited } = startLab(p, labLog);
  let labExit: number | null | undefined;
  void exited.then((c) => {
    labExit = c;
  });
  const tracks = new Map<string, Track>();
  const users: UsersSample[] = [];
  try {
    const { admin, token } = await untilRunning(join(p.dir, 'lab'), () => labExit !== undefined);
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    const samples = expectedSamples(p.totalS, p.intervalS);
    const subS = p.intervalS / 6;
    let fromSecond = 0;
    let tick = 1;
    for (let k = 1; k <= samples && labExit === undefined; k++) {
      // The last sample a second before the drills end: the lab starts stopping its processes then.
      const at = Math.min(k * p.intervalS, p.totalS - 1);
      for (; tick * subS <= at; tick++) {
        await sleep((tick * subS - elapsed()) * 1000);
        const s = await status(admin, token, fromSecond);
        if (!s) continue;
        const t = +elapsed().toFixed(2);
        const all = [...s.processes, { name: 'lab', region: '', pid: s.lab, metrics: undefined }];
        await Promise.all(
          all.map(async (proc) => {
            const track = tracks.get(proc.name) ?? {
              name: proc.name,
              region: proc.region,
              pids: [],
              subs: [],
            };
            tracks.set(proc.name, track);
            if (track.pids.at(-1) !== proc.pid) track.pids.push(proc.pid);
            track.subs.push({ t, pid: proc.pid, ...(await look(proc.pid, proc.metrics)) });
          }),
        );
      }
      await sleep((at - elapsed()) * 1000);
      const s = await status(admin, token, fromSecond);
      const u = s?.users;
      if (u) fromSecond = u.toSecond;
      const sample: UsersSample = {
        t: k * p.intervalS,
        requests: u?.requests ?? 0,
        failed: u?.failed ?? 0,
        p50Ms: u?.p50Ms ?? null,
        p99Ms: u?.p99Ms ?? null,
      };
      users.push(sample);
      p.say(progressLine(k, samples, sample, tracks));
    }
    const code = await exited;
    return { tracks, users, labExit: code, labLog };
  } finally {
    if (labExit === undefined) {
      child.kill('SIGINT');
      await exited;
    }
  }
}

const mb = (b: number) => Math.round(b / (1024 * 1024));

function progressLine(k: number, n: number, u: UsersSample, tracks: Map<string, Track>): string {
  const latest = [...tracks.values()]
    .map((t) => ({ name: t.name, s: t.subs.at(-1) }))
    .filter((x) => x.s && x.s.t > u.t - 10);
  const rss = latest.reduce((a, x) => a + (x.s!.rssBytes ?? 0), 0);
  const fds = latest.reduce((a, x) => a + (x.s!.fds ?? 0), 0);
  const biggest = latest.sort((a, b) => (b.s!.rssBytes ?? 0) - (a.s!.rssBytes ?? 0))[0];
  const heaps = latest.filter((x) => x.s!.heapBytes !== null).length;
  const restarted = [...tracks.values()].filter((t) => t.pids.length > 1).length;
  return (
    `sample ${k}/${n} t=${u.t}s  users p99 ${u.p99Ms === null ? '-' : Math.round(u.p99Ms)} ms (${u.requests} req, ${u.failed} failed)  ` +
    `${latest.length} processes: rss ${mb(rss)} MB total (largest ${biggest?.name ?? '-'} ${mb(biggest?.s?.rssBytes ?? 0)} MB), ` +
    `fds ${fds} total, heap from /metrics ${heaps}/${latest.length}` +
    (restarted > 0 ? `, ${restarted} restarted by the drills` : '')
  );
}
