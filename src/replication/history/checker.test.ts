import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHlc } from '../hlc.js';
import {
  checkHistory,
  type DataCheck,
  type FinalState,
  type HistoryOp,
  MAX_ANOMALIES_PER_KIND,
} from './checker.js';

const s = (wall: number, origin = 'a') => formatHlc({ wall, counter: 0, origin });
let clock = 0;
function op(
  kind: HistoryOp['kind'],
  key: string,
  value: string | null,
  more: Partial<HistoryOp> = {},
): HistoryOp {
  clock += 10;
  return {
    session: 's1',
    region: 'a',
    kind,
    key,
    value,
    acknowledged: true,
    startedAt: clock,
    endedAt: clock + 5,
    ...more,
  };
}
type Rec = [string | null, string] | undefined;
function final(regions: Record<string, Record<string, Rec>>): FinalState {
  const out: FinalState = {};
  for (const [region, keys] of Object.entries(regions)) {
    out[region] = new Map(
      Object.entries(keys).map(([k, r]) => [k, r === undefined ? undefined : { value: r[0], stamp: r[1] }]),
    );
  }
  return out;
}
const counts = (c: DataCheck) => ({
  acknowledged: c.acknowledged,
  lost: c.lost,
  divergent: c.divergent,
  staleReads: c.staleReads,
  lwwViolations: c.lwwViolations,
});
const zero = { lost: 0, divergent: 0, staleReads: 0, lwwViolations: 0 };

const cases: {
  name: string;
  history: HistoryOp[];
  final: FinalState;
  expect: Partial<ReturnType<typeof counts>>;
}[] = [
  {
    name: 'nothing happened',
    history: [],
    final: final({ a: {}, b: {} }),
    expect: { acknowledged: 0, ...zero },
  },
  {
    name: 'an acknowledged write everywhere',
    history: [op('write', 'k', 'v1', { stamp: s(1) })],
    final: final({ a: { k: ['v1', s(1)] }, b: { k: ['v1', s(1)] } }),
    expect: { acknowledged: 1, ...zero },
  },
  {
    name: 'an acknowledged write that never reached one region: lost and divergent',
    history: [op('write', 'k', 'v1', { stamp: s(1) }), op('write', 'k', 'v2', { stamp: s(2) })],
    final: final({ a: { k: ['v2', s(2)] }, b: { k: ['v1', s(1)] } }),
    expect: { acknowledged: 2, lost: 1, divergent: 1, lwwViolations: 0 },
  },
  {
    name: 'an acknowledged write nowhere, regions agree on the older value',
    history: [op('write', 'k', 'v1', { stamp: s(1) }), op('write', 'k', 'v2', { stamp: s(2) })],
    final: final({ a: { k: ['v1', s(1)] }, b: { k: ['v1', s(1)] } }),
    expect: { lost: 1, divergent: 0, lwwViolations: 0 },
  },
  {
    name: 'an acknowledged write of a key no region has',
    history: [op('write', 'k', 'v1', { stamp: s(1) })],
    final: final({ a: {}, b: {} }),
    expect: { lost: 1, divergent: 0 },
  },
  {
    name: 'an unacknowledged write may vanish',
    history: [
      op('write', 'k', 'v1', { stamp: s(1) }),
      op('write', 'k', 'v2', { stamp: s(2), acknowledged: false }),
    ],
    final: final({ a: { k: ['v1', s(1)] }, b: { k: ['v1', s(1)] } }),
    expect: { acknowledged: 1, ...zero },
  },
  {
    name: 'an unacknowledged write with the greatest stamp may win',
    history: [
      op('write', 'k', 'v1', { stamp: s(1) }),
      op('write', 'k', 'v2', { stamp: s(2), acknowledged: false }),
    ],
    final: final({ a: { k: ['v2', s(2)] }, b: { k: ['v2', s(2)] } }),
    expect: zero,
  },
  {
    name: 'a delete: tombstone in one region, expired in the other',
    history: [op('write', 'k', 'v1', { stamp: s(1) }), op('delete', 'k', null, { stamp: s(2) })],
    final: final({ a: { k: [null, s(2)] }, b: { k: undefined } }),
    expect: zero,
  },
  {
    name: 'a delete that did not reach a region',
    history: [op('write', 'k', 'v1', { stamp: s(1) }), op('delete', 'k', null, { stamp: s(2) })],
    final: final({ a: { k: [null, s(2)] }, b: { k: ['v1', s(1)] } }),
    expect: { lost: 1, divergent: 1 },
  },
  {
    name: 'same stamp, different values: divergent',
    history: [op('write', 'k', 'v1', { stamp: s(1) })],
    final: final({ a: { k: ['v1', s(1)] }, b: { k: ['x', s(1)] } }),
    expect: { lost: 0, divergent: 1 },
  },
  {
    name: 'converged on the newest stamp with another value: lww',
    history: [op('write', 'k', 'v1', { stamp: s(1) }), op('write', 'k', 'v2', { stamp: s(2) })],
    final: final({ a: { k: ['v1', s(2)] }, b: { k: ['v1', s(2)] } }),
    expect: { lost: 0, divergent: 0, lwwViolations: 1 },
  },
  {
    name: 'converged on a stamp no write in the history made: lww',
    history: [op('write', 'k', 'v1', { stamp: s(1) })],
    final: final({ a: { k: ['v9', s(9)] }, b: { k: ['v9', s(9)] } }),
    expect: { lost: 0, divergent: 0, lwwViolations: 1 },
  },
  {
    name: 'ties broken by origin: the greater origin wins',
    history: [
      op('write', 'k', 'from-a', { stamp: s(5, 'a') }),
      op('write', 'k', 'from-b', { stamp: s(5, 'b'), region: 'b', session: 's2' }),
    ],
    final: final({ a: { k: ['from-b', s(5, 'b')] }, b: { k: ['from-b', s(5, 'b')] } }),
    expect: zero,
  },
  {
    name: 'an unstamped write: only a missing key counts as lost',
    history: [op('write', 'k', 'v1'), op('write', 'j', 'w1')],
    final: final({ a: { k: ['other', s(3)], j: ['w1', s(1)] }, b: { k: ['other', s(3)] } }),
    expect: { lost: 1, divergent: 1 },
  },
  {
    name: 'read-your-writes broken: a session reads its older value',
    history: [
      op('write', 'k', 'v1', { stamp: s(1) }),
      op('write', 'k', 'v2', { stamp: s(2) }),
      op('read', 'k', 'v1'),
    ],
    final: final({ a: { k: ['v2', s(2)] }, b: { k: ['v2', s(2)] } }),
    expect: { staleReads: 1, lost: 0 },
  },
  {
    name: 'read-your-writes broken: a miss after its own write',
    history: [op('write', 'k', 'v1', { stamp: s(1) }), op('read', 'k', null)],
    final: final({ a: { k: ['v1', s(1)] }, b: { k: ['v1', s(1)] } }),
    expect: { staleReads: 1 },
  },
  {
    name: 'a miss after another session deleted the key is fine',
    history: [
      op('write', 'k', 'v1', { stamp: s(1) }),
      op('delete', 'k', null, { stamp: s(2), session: 's2' }),
      op('read', 'k', null),
    ],
    final: final({ a: { k: [null, s(2)] }, b: { k: [null, s(2)] } }),
    expect: zero,
  },
  {
    name: 'monotonic reads broken: a newer value, then an older one',
    history: [
      op('write', 'k', 'v1', { stamp: s(1), session: 'w' }),
      op('write', 'k', 'v2', { stamp: s(2), session: 'w' }),
      op('read', 'k', 'v2', { session: 'r' }),
      op('read', 'k', 'v1', { session: 'r' }),
    ],
    final: final({ a: { k: ['v2', s(2)] }, b: { k: ['v2', s(2)] } }),
    expect: { staleReads: 1 },
  },
  {
    name: 'the same reads in two regions are two sessions',
    history: [
      op('write', 'k', 'v1', { stamp: s(1), session: 'w' }),
      op('write', 'k', 'v2', { stamp: s(2), session: 'w' }),
      op('read', 'k', 'v2', { session: 'r', region: 'a' }),
      op('read', 'k', 'v1', { session: 'r', region: 'b' }),
    ],
    final: final({ a: { k: ['v2', s(2)] }, b: { k: ['v2', s(2)] } }),
    expect: zero,
  },
  {
    name: 'a newer value from another region is no stale read',
    history: [
      op('write', 'k', 'v1', { stamp: s(1) }),
      op('write', 'k', 'v2', { stamp: s(2, 'b'), region: 'b', session: 's2' }),
      op('read', 'k', 'v2'),
    ],
    final: final({ a: { k: ['v2', s(2, 'b')] }, b: { k: ['v2', s(2, 'b')] } }),
    expect: zero,
  },
  {
    name: "a read's own stamp beats guessing from the value",
    history: [
      op('write', 'k', 'same', { stamp: s(1) }),
      op('write', 'k', 'same', { stamp: s(3) }),
      op('read', 'k', 'same', { session: 'r', stamp: s(3) }),
      op('read', 'k', 'same', { session: 'r', stamp: s(1) }),
    ],
    final: final({ a: { k: ['same', s(3)] }, b: { k: ['same', s(3)] } }),
    expect: { staleReads: 1 },
  },
  {
    name: 'a failed read is not judged',
    history: [op('write', 'k', 'v1', { stamp: s(1) }), op('read', 'k', null, { acknowledged: false })],
    final: final({ a: { k: ['v1', s(1)] }, b: { k: ['v1', s(1)] } }),
    expect: zero,
  },
];

for (const c of cases) {
  test(`checkHistory: ${c.name}`, () => {
    const got = counts(checkHistory(c.history, c.final));
    assert.deepEqual({ ...got, ...c.expect }, got);
  });
}

test('anomalies name the key and the regions, and their list is bounded', () => {
  const history: HistoryOp[] = [];
  const a = new Map<string, { value: string | null; stamp: string } | undefined>();
  for (let i = 0; i < MAX_ANOMALIES_PER_KIND + 10; i++)
    history.push(op('write', `k${i}`, 'v', { stamp: s(1) }));
  const check = checkHistory(history, { a, b: new Map() });
  assert.equal(check.lost, MAX_ANOMALIES_PER_KIND + 10);
  assert.equal(check.anomalies.length, MAX_ANOMALIES_PER_KIND);
  assert.equal(check.anomalies[0].kind, 'lost');
  assert.equal(check.anomalies[0].key, 'k0');
  assert.match(check.anomalies[0].detail, /a has nothing, b has nothing/);
});
