// npm run bench -- soak [--minutes 30] [--interval S] [--drill-seconds S] [--rate R] [--seed N] [--report DIR] [--json]
// Runs the packed and installed `meridian lab` for the given minutes at a steady rate, kong,
// split-brain and evacuate in turn on one deployment (its processes started once), samples every process's
// RSS, open descriptors and heap, and the users' p99, and judges after warm-up whether any grows
// without bound (judge.ts). Exits 1 when one does, or when the run did not complete.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { installPacked } from '../../test/helpers/installed.js';
import { table, writeCharts } from './report.js';
import { expectedSamples, runSoak } from './run.js';
import { verdict } from './verdict.js';

// split-brain in the middle: a cut holds the far ends of connections open until the heal (as TCP
// does), and a one-cycle run (CI's 2 minutes) compares its last third with what came before, so
// that third should follow a settled drill, not a partition that just healed.
const DRILLS = ['kong', 'split-brain', 'evacuate'];
const STREAM_MAX_AGE = '10m';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positive = (name: string, fallback: number) => {
  const text = option(name);
  const v = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} expects a positive number`);
  return v;
};
const json = args.includes('--json');
const say = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);

const minutes = positive('--minutes', 30);
// Each drill's slot: 60 s (the lab's default run); 40 s in runs under 6 minutes, so a 2-minute run holds all three.
const slotS = positive('--drill-seconds', minutes < 6 ? 40 : 60);
const cycleS = slotS * DRILLS.length;
const totalS = Math.floor((minutes * 60) / slotS) * slotS;
if (totalS < slotS) throw new Error(`--minutes ${minutes} is shorter than one drill (${slotS} s)`);
// 30 s from 6 minutes on; shorter runs sample more often (a 2-minute run every 10 s) to have points to judge.
const intervalS = positive('--interval', Math.min(30, Math.max(5, Math.floor(totalS / 12))));
const rate = positive('--rate', 60);
const seed = positive('--seed', 1);
const dir = resolve(option('--report') ?? 'meridian-soak-report');

async function main() {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  say('packing and installing this tree (cached by content)...');
  const installed = installPacked((line) => say(`  ${line}`));
  const version = JSON.parse(readFileSync(join(installed.packageDir, 'package.json'), 'utf8')).version;
  say(
    `binary: ${installed.bin} (meridian ${version}, installed from ${installed.tarball}), node ${process.version}`,
  );
  const config = parse(readFileSync(join(installed.packageDir, 'examples', 'two-regions.yaml'), 'utf8'));
  // Streams that keep 24 h of events grow for a day by design; 10 minutes bounds them within the warm-up.
  // Kong kills the first region each cycle; the others' processes live the whole run, which is what
  // is judged (rotating the target gave each region 15-minute lives, too young to judge in 30 minutes).
  config.lab = { ...config.lab, seed, streamMaxAge: STREAM_MAX_AGE, repeatTarget: 'fixed' };
  const configFile = join(dir, 'two-regions.yaml');
  writeFileSync(configFile, stringify(config));
  const samples = expectedSamples(totalS, intervalS);
  say(
    `soak: ${totalS} s of ${DRILLS.join(', ')} in turn (${slotS} s each, a cycle every ${cycleS} s) at ${rate} req/s, seed ${seed}, streams keeping ${STREAM_MAX_AGE}; ` +
      `a sample every ${intervalS} s (${samples} samples; each the floor of 6 looks)${intervalS < 30 ? ', shorter than 30 s because the run is short' : ''}`,
  );
  const run = await runSoak({
    bin: installed.bin,
    configFile,
    dir,
    totalS,
    slotS,
    intervalS,
    rate,
    drills: DRILLS,
    say,
  });
  const result = verdict(run, { totalS, intervalS, cycleS });
  const charts = writeCharts(dir, run, { intervalS, slotS, cycleS, totalS, drills: DRILLS });
  const failures = [...result.failures];
  if (run.users.length !== samples)
    failures.push(`${run.users.length} samples of ${samples}: the run did not complete`);
  if (run.labExit !== 0) failures.push(`meridian lab exited ${run.labExit} (see ${run.labLog})`);
  const out = {
    benchmark: 'soak',
    binary: installed.bin,
    version,
    node: process.version,
    command: `npm run bench -- soak ${args.join(' ')}`.trim(),
    minutes,
    totalS,
    slotS,
    cycleS,
    drills: DRILLS,
    rate,
    seed,
    intervalS,
    samples: run.users.length,
    expectedSamples: samples,
    warmupS: result.warmupS,
    rule:
      'after warm-up, per process: RSS and heap (each interval floor) grow without bound when the least-squares line rises more than 10 % of the mean ' +
      '(judged only when 10 minutes follow the warm-up) ' +
      'over the judged span and the second half slopes at least half as much as the first; open fds: per whole cycle floors, the median of the later half at most 5 above that of the earlier half ' +
      '(runs under two cycles: the last third median at most 5 past every earlier floor); ' +
      "users' p99: per-cycle medians, the same rule at 50 %",
    processes: result.processes.map((p) => ({
      name: p.name,
      region: p.region,
      pids: p.pids,
      judged: p.judged,
      ...(p.note ? { note: p.note } : {}),
      rss: p.rss,
      heap: p.heap,
      fds: p.fds,
    })),
    p99: result.p99,
    labExit: run.labExit,
    report: dir,
    labReport: join(dir, 'lab', 'index.html'),
    charts,
    verdict: { pass: failures.length === 0, failures },
  };
  writeFileSync(join(dir, 'soak.json'), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(
    join(dir, 'samples.json'),
    `${JSON.stringify({ users: run.users, processes: Object.fromEntries(run.tracks) })}\n`,
  );
  if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    say('');
    for (const line of table(result)) say(line);
    say(`\nverdict: ${failures.length === 0 ? 'PASS (nothing grows without bound)' : 'FAIL'}`);
    for (const f of failures) say(`  ✘ ${f}`);
    say(
      `report: ${dir} (soak.json, samples.json, ${charts
        .filter((c) => c.endsWith('.png'))
        .map((c) => c.split('/').pop())
        .join(', ')}; the lab's own report in lab/)`,
    );
  }
  if (failures.length > 0) process.exitCode = 1;
}

await main();
