import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClockOffsetEstimator } from './clock-offset.js';

// sample: [peer, peer's wall time of the canary, our time when we saw it]
const cases: {
  name: string;
  samples: [string, number, number][];
  reports?: [string, unknown][];
  ahead: Record<string, number | null>;
  median: number | null;
}[] = [
  { name: 'nothing seen', samples: [], ahead: { b: null }, median: null },
  {
    name: 'one way only: the least delayed sample, an upper bound',
    samples: [
      ['b', 1000, 6040],
      ['b', 2000, 7010],
      ['b', 3000, 8100],
    ],
    ahead: { b: 5010 },
    median: 5010,
  },
  {
    name: "both ways: the peer's bound cancels the delay",
    samples: [['b', 1000, 6010]],
    reports: [['b', -4990]],
    ahead: { b: 5000 },
    median: 5000,
  },
  {
    name: 'behind the peer: negative',
    samples: [['b', 6000, 1020]],
    reports: [['b', 5020]],
    ahead: { b: -5000 },
    median: -5000,
  },
  {
    name: 'a bad report is ignored',
    samples: [['b', 1000, 6010]],
    reports: [['b', 'soon']],
    ahead: { b: 5010 },
    median: 5010,
  },
  {
    name: 'median of three peers: one fast peer does not move it',
    samples: [
      ['b', 1000, 1010],
      ['c', 1000, 1020],
      ['d', 9000, 1000],
    ],
    ahead: { b: 10, c: 20, d: -8000 },
    median: 10,
  },
  {
    name: 'median of two peers: the mean of both',
    samples: [
      ['b', 1000, 7000],
      ['c', 1000, 5000],
    ],
    ahead: { b: 6000, c: 4000 },
    median: 5000,
  },
];
for (const c of cases) {
  test(`clock offset estimate: ${c.name}`, () => {
    const e = new ClockOffsetEstimator();
    for (const [peer, wall, local] of c.samples) e.sample(peer, wall, local);
    for (const [peer, bound] of c.reports ?? []) e.peerReport(peer, bound);
    for (const [peer, ahead] of Object.entries(c.ahead)) assert.equal(e.aheadOfMs(peer), ahead, peer);
    assert.equal(e.aheadOfPeersMs(), c.median);
  });
}

test('the window forgets old samples, so a corrected clock is seen as corrected', () => {
  const e = new ClockOffsetEstimator(3);
  e.sample('b', 0, 5000);
  for (let i = 1; i <= 3; i++) e.sample('b', i * 1000, i * 1000 + 20);
  assert.equal(e.aheadOfMs('b'), 20);
  assert.deepEqual(e.bounds(), { b: 20 });
});

test("two estimators measuring each other agree on the offset, whatever each way's delay", () => {
  // a's clock runs 5000 ms ahead of b's; a->b takes 30 ms, b->a 10 ms.
  const a = new ClockOffsetEstimator();
  const b = new ClockOffsetEstimator();
  for (let t = 0; t < 5000; t += 1000) {
    b.sample('a', t + 5000, t + 30); // a's canary written at true time t, seen by b 30 ms later
    a.sample('b', t, t + 10 + 5000);
  }
  a.peerReport('b', b.bounds().a);
  b.peerReport('a', a.bounds().b);
  assert.equal(a.aheadOfMs('b'), 5000 - 10);
  assert.equal(b.aheadOfMs('a'), -(5000 - 10));
});
