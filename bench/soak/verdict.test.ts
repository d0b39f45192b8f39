import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SoakRun, SubSample, Track } from './run.js';
import { verdict } from './verdict.js';

const MB = 1024 * 1024;
const TOTAL = 1800;
const plan = { totalS: TOTAL, intervalS: 30, cycleS: 180 };

/** Samples every 5 s under `pid` from `fromS` to `toS`, RSS from `rss(seconds into the life)`. */
const life = (pid: number, fromS: number, toS: number, rss: (s: number) => number): SubSample[] =>
  Array.from({ length: Math.floor((toS - fromS) / 5) }, (_, i) => {
    const t = fromS + (i + 1) * 5;
    return { t, pid, rssBytes: rss(t - fromS), fds: 40, heapBytes: null };
  });

const track = (name: string, subs: SubSample[]): Track => ({
  name,
  region: 'us-east-1',
  pids: [...new Set(subs.map((s) => s.pid))],
  subs,
});

const run = (...tracks: Track[]): SoakRun => ({
  tracks: new Map(tracks.map((t) => [t.name, t])),
  users: [],
  labExit: 0,
  labLog: '',
});

test('verdict: a process kong restarted is judged over its longest life, on its own clock', () => {
  // Killed at 200 s and 560 s, then it lives 1040 s and leaks 1 MB a minute: judged, grows.
  const leaky = track('edge-us-east-1', [
    ...life(1, 0, 200, () => 100 * MB),
    ...life(2, 260, 560, () => 100 * MB),
    ...life(3, 760, TOTAL, (s) => 100 * MB + (s / 60) * MB),
  ]);
  const flat = track('dns-us-east-1', [
    ...life(4, 0, 200, () => 80 * MB),
    ...life(5, 760, TOTAL, (s) => 80 * MB + Math.min(s, 120) * 0.1 * MB),
  ]);
  const r = verdict(run(leaky, flat), plan);
  const [edge, dns] = r.processes;
  assert.equal(edge.judged, true);
  assert.match(edge.note ?? '', /longest life \(pid 3, 1035 s\)/);
  assert.equal(edge.rss.grows, true, edge.rss.why);
  assert.equal(dns.judged, true);
  assert.equal(dns.rss.grows, false, `its warm-up is that life's first minutes: ${dns.rss.why}`);
  assert.deepEqual(r.failures.length, 1);
});

test('verdict: a restarted process whose lives are all short is shown, not judged', () => {
  const subs = [0, 1, 2, 3, 4, 5].flatMap((k) =>
    life(10 + k, k * 300, k * 300 + 200, (s) => 50 * MB + s * MB),
  );
  const r = verdict(run(track('control-us-east-1', subs)), plan);
  assert.equal(r.processes[0].judged, false);
  assert.match(r.processes[0].note ?? '', /longest life, 195 s, too short to judge/);
  assert.deepEqual(r.failures, []);
});

test("verdict: a 2-minute run's restarted region is shown, not judged (its last life is under two cycles)", () => {
  const subs = [...life(20, 0, 13, () => 50 * MB), ...life(21, 27, 120, () => 50 * MB)];
  const r = verdict(run(track('edge-us-east-1', subs)), { totalS: 120, intervalS: 10, cycleS: 120 });
  assert.equal(r.processes[0].judged, false, r.processes[0].note);
});
