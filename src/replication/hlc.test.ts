import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareHlc, formatHlc, HybridClock, parseHlc } from './hlc.js';

test('stamps of one clock only grow, even when the wall clock steps back', () => {
  const times = [1000, 1000, 999, 1005, 1005];
  const clock = new HybridClock('us-east-1', () => times.shift() ?? 1005);
  const stamps = Array.from({ length: 5 }, () => clock.tick());
  for (let i = 1; i < stamps.length; i++) assert.ok(compareHlc(stamps[i - 1], stamps[i]) < 0, stamps[i]);
  assert.deepEqual(parseHlc(stamps[2]), { wall: 1000, counter: 2, origin: 'us-east-1' });
});

test('observe() moves the clock past a stamp from a region whose clock runs ahead', () => {
  const clock = new HybridClock('b', () => 1000);
  const remote = formatHlc({ wall: 5000, counter: 7, origin: 'a' });
  clock.observe(remote);
  assert.ok(compareHlc(remote, clock.tick()) < 0);
});

const cases = [
  {
    name: 'wall decides',
    a: { wall: 1, counter: 9, origin: 'z' },
    b: { wall: 2, counter: 0, origin: 'a' },
    expect: -1,
  },
  {
    name: 'counter next',
    a: { wall: 2, counter: 10, origin: 'a' },
    b: { wall: 2, counter: 9, origin: 'z' },
    expect: 1,
  },
  {
    name: 'origin breaks ties',
    a: { wall: 2, counter: 1, origin: 'a' },
    b: { wall: 2, counter: 1, origin: 'b' },
    expect: -1,
  },
  {
    name: 'equal',
    a: { wall: 2, counter: 1, origin: 'a' },
    b: { wall: 2, counter: 1, origin: 'a' },
    expect: 0,
  },
];
for (const c of cases) {
  test(`compareHlc: ${c.name}`, () => {
    assert.equal(Math.sign(compareHlc(formatHlc(c.a), formatHlc(c.b))), c.expect);
  });
}

test('parseHlc refuses what is not a stamp', () => {
  for (const bad of ['', '1-2-a', `${'9'.repeat(15)}-00000-`, `${'0'.repeat(15)}-00000-a b`]) {
    assert.equal(parseHlc(bad), null, bad);
  }
});

// Clamping: a clock measured further ahead of its peers than maxOffsetMs stamps
// from peers' time + maxOffsetMs, and still never runs backwards.
const clampCases: {
  name: string;
  maxOffsetMs: number;
  steps: { now: number; ahead: number | null; wall: number; counter: number; clamped: boolean }[];
}[] = [
  {
    name: 'unknown offset: the physical clock',
    maxOffsetMs: 500,
    steps: [{ now: 10_000, ahead: null, wall: 10_000, counter: 0, clamped: false }],
  },
  {
    name: 'within the offset: the physical clock',
    maxOffsetMs: 500,
    steps: [{ now: 10_000, ahead: 500, wall: 10_000, counter: 0, clamped: false }],
  },
  {
    name: 'ahead by more: peers time + maxOffset',
    maxOffsetMs: 500,
    steps: [{ now: 15_000, ahead: 5000, wall: 10_500, counter: 0, clamped: true }],
  },
  {
    name: 'measured after fast stamps: the wall holds (counter) until the clamped reading passes it',
    maxOffsetMs: 500,
    steps: [
      { now: 15_000, ahead: null, wall: 15_000, counter: 0, clamped: false },
      { now: 16_000, ahead: 5000, wall: 15_000, counter: 1, clamped: true },
      { now: 19_499, ahead: 5000, wall: 15_000, counter: 2, clamped: true },
      { now: 19_600, ahead: 5000, wall: 15_100, counter: 0, clamped: true },
    ],
  },
  {
    name: 'the clock is corrected: back to the physical clock',
    maxOffsetMs: 500,
    steps: [
      { now: 15_000, ahead: 5000, wall: 10_500, counter: 0, clamped: true },
      { now: 15_100, ahead: 0, wall: 15_100, counter: 0, clamped: false },
    ],
  },
  {
    name: 'no maximum: never clamped',
    maxOffsetMs: Number.POSITIVE_INFINITY,
    steps: [{ now: 15_000, ahead: 5000, wall: 15_000, counter: 0, clamped: false }],
  },
];
for (const c of clampCases) {
  test(`clamped clock: ${c.name}`, () => {
    let step = c.steps[0];
    let onClamp = 0;
    const clock = new HybridClock('a', () => step.now, {
      maxOffsetMs: c.maxOffsetMs,
      onClamp: () => onClamp++,
    });
    clock.followPeers(() => step.ahead);
    let clamped = 0;
    for (step of c.steps) {
      const stamp = parseHlc(clock.tick());
      assert.deepEqual(stamp, { wall: step.wall, counter: step.counter, origin: 'a' }, `at ${step.now}`);
      if (step.clamped) clamped++;
    }
    assert.equal(clock.clamped, clamped);
    assert.equal(onClamp, clamped);
  });
}

test('a stopped probe stops the clamping, unless another probe took over', () => {
  const clock = new HybridClock('a', () => 15_000, { maxOffsetMs: 500 });
  const first = () => 5000;
  const second = () => 4000;
  clock.followPeers(first);
  clock.followPeers(second);
  clock.unfollowPeers(first);
  assert.equal(clock.physical().ms, 11_500);
  clock.unfollowPeers(second);
  assert.deepEqual(clock.physical(), { ms: 15_000, clamped: false });
});
