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
