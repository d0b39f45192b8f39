import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeFds, judgeMemory, judgeP99, type Point, perGroup, slope, warmupS } from './judge.js';

const MB = 1024 * 1024;
const TOTAL = 1800;
const INTERVAL = 30;
/** Sub-samples every 5 s, as the soak takes them in a 30-minute run. */
const series = (f: (t: number) => number, totalS = TOTAL, everyS = 5): Point[] =>
  Array.from({ length: Math.floor(totalS / everyS) }, (_, i) => {
    const t = (i + 1) * everyS;
    return { t, v: f(t) };
  });

/** A fixed pseudo-random sequence (no Math.random: the same run every time). */
function noise(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/** V8's heap: climbs 30 MB between collections every 47 s (not a multiple of the interval), then drops. */
const sawtooth = (t: number) => ((t % 47) / 47) * 30 * MB;

test('warm-up: a fifth of the run, at most 5 minutes', () => {
  assert.equal(warmupS(1800), 300);
  assert.equal(warmupS(120), 24);
});

test('slope and perGroup', () => {
  assert.equal(slope([0, 10, 20].map((t) => ({ t, v: 3 * t + 7 }))), 3);
  assert.equal(slope([{ t: 1, v: 5 }]), 0);
  const points = [1, 2, 3, 4, 5, 6].map((t) => ({ t, v: t % 3 }));
  assert.deepEqual(perGroup(points, 3, 'min'), [
    { t: 3, v: 0 },
    { t: 6, v: 0 },
  ]);
  assert.deepEqual(perGroup(points, 3, 'median'), [
    { t: 3, v: 1 },
    { t: 6, v: 1 },
  ]);
});

test('memory: a sawtooth passes', () => {
  const random = noise(7);
  const j = judgeMemory(
    series((t) => 120 * MB + sawtooth(t) + random() * 2 * MB),
    INTERVAL,
    TOTAL,
  );
  assert.equal(j.judged, true);
  assert.equal(j.grows, false, j.why);
});

test('memory: a leak under the sawtooth fails', () => {
  const random = noise(8);
  // 40 MB more every hour: +20 MB over the run, a sixth of the process.
  const j = judgeMemory(
    series((t) => 120 * MB + (t / 3600) * 40 * MB + sawtooth(t) + random() * 2 * MB),
    INTERVAL,
    TOTAL,
  );
  assert.equal(j.grows, true, j.why);
  assert.ok(Math.abs(j.slopePerHour! / MB - 40) < 8, `slope ${j.slopePerHour! / MB} MB/h`);
});

test('memory: a process that grows while warming up and levels off passes', () => {
  const j = judgeMemory(
    series((t) => 60 * MB + 45 * MB * (1 - Math.exp(-t / 400)) + sawtooth(t)),
    INTERVAL,
    TOTAL,
  );
  assert.equal(j.grows, false, j.why);
});

test('memory in a 2-minute run is shown, not judged: a young process still grows', () => {
  const j = judgeMemory(
    series((t) => 20 * MB + t * 0.1 * MB, 120, 10 / 6),
    10,
    120,
  );
  assert.equal(j.judged, false);
  assert.equal(j.grows, false);
  assert.match(j.why, /judged from 600 s on/);
  assert.ok(j.median !== null, 'its median is still reported');
});

test('memory: too short a run is not judged, and passes', () => {
  const j = judgeMemory(
    series((t) => t * MB, 60, 5),
    30,
    60,
  );
  assert.equal(j.judged, false);
  assert.equal(j.grows, false);
});

const CYCLE = 180;

test('fds: connections that follow the drills pass; one leaked per drill fails', () => {
  const random = noise(3);
  // A killed region's connections close for a minute, a healed cut opens 50 for a while.
  const drills = (t: number) => (t % CYCLE < 60 ? -30 : t % CYCLE > 150 ? 50 : 0);
  const busy = judgeFds(
    series((t) => 130 + drills(t) + (random() < 0.3 ? Math.floor(random() * 12) : 0)),
    INTERVAL,
    CYCLE,
    TOTAL,
  );
  assert.equal(busy.judged, true);
  assert.equal(busy.grows, false, busy.why);
  const leak = judgeFds(
    series((t) => 130 + drills(t) + Math.floor(t / 60)),
    INTERVAL,
    CYCLE,
    TOTAL,
  );
  assert.equal(leak.grows, true, leak.why);
});

test('fds: one cycle whose floor dips passes (the edge of the 30-minute run)', () => {
  const floors = [100, 81, 51, 105, 106, 99, 95, 101, 108, 107];
  const j = judgeFds(
    series((t) => floors[Math.min(9, Math.ceil(t / CYCLE) - 1)] + (t % 30 === 0 ? 40 : 0)),
    INTERVAL,
    CYCLE,
    TOTAL,
  );
  assert.equal(j.judged, true);
  assert.equal(j.grows, false, j.why);
});

test('fds in a run of one cycle: a cut healed at the end passes, a fast climb fails (a slow one needs cycles)', () => {
  const short = (f: (t: number) => number) => series(f, 120, 10 / 6);
  const healed = judgeFds(
    short((t) => (t < 27 ? 50 : t > 105 ? 180 - (t - 105) * 2 : 130)),
    10,
    120,
    120,
  );
  assert.equal(healed.grows, false, healed.why);
  const climb = judgeFds(
    short((t) => 100 + Math.floor(t / 2)),
    10,
    120,
    120,
  );
  assert.equal(climb.grows, true, climb.why);
});

test("p99: a drill's slow interval in every cycle passes; a p99 that keeps climbing fails", () => {
  const cycle = 180;
  const every30 = (f: (t: number) => number) => series(f, TOTAL, 30);
  const spiky = judgeP99(
    every30((t) => (t % cycle === 60 ? 900 : 40)),
    cycle,
    TOTAL,
  );
  assert.equal(spiky.judged, true);
  assert.equal(spiky.grows, false, spiky.why);
  const climbing = judgeP99(
    every30((t) => 40 + t / 10),
    cycle,
    TOTAL,
  );
  assert.equal(climbing.grows, true, climbing.why);
  const short = judgeP99(
    series(() => 40, 120, 10),
    120,
    120,
  );
  assert.equal(short.judged, false, 'one cycle cannot show a trend');
});
