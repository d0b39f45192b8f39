import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RegionState } from './model.js';
import {
  emptyOutlierState,
  nextOutlierMove,
  type OutlierEvacuation,
  type OutlierMoveConfig,
  type OutlierMoveInput,
  probeDelay,
} from './outlier-moves.js';
import type { RegionJudgement, RelativeJudgement, Verdict } from './relative-health.js';
import { initialRelativeState } from './relative-health.js';
import { east, region, snapshot, twoRegions, west } from './test-fixtures.js';

const cfg: OutlierMoveConfig = {
  steps: [50, 0],
  restoreSteps: [10, 50, 100],
  margin: 0.2,
  maxAutoEvacuated: null,
  probeAfterMs: 30_000,
};
const now = 1_000_000;

function judged(verdicts: Record<string, Verdict>, global = false): RelativeJudgement {
  const regions = new Map<string, RegionJudgement>(
    Object.entries(verdicts).map(([region, verdict]) => [
      region,
      {
        region,
        verdict,
        why: `${region} ${verdict}`,
        reading: null,
        baseline: null,
        healthy: verdict === 'fine',
      },
    ]),
  );
  return { state: initialRelativeState(), regions, global: { raised: global, why: global ? 'all bad' : '' } };
}

const evac = (extra: Partial<OutlierEvacuation> = {}): OutlierEvacuation => ({
  region: 'us-east-1',
  at: now - 60_000,
  why: 'error rate 30 %',
  fromDial: 100,
  phase: 'evacuated',
  probeAt: now + 1000,
  ...extra,
});

const load = (demand: number, capacity = 1000): Partial<RegionState> => ({ demand, load: demand, capacity });

function input(extra: Partial<OutlierMoveInput> & { verdicts?: Record<string, Verdict>; global?: boolean }) {
  return {
    judgement: judged(extra.verdicts ?? { 'us-east-1': 'fine', 'us-west-2': 'fine' }, extra.global),
    snapshot: twoRegions(load(100), load(100)),
    state: emptyOutlierState(),
    busy: null,
    failedOver: new Set<string>(),
    now,
    ...extra,
  };
}

const cases: { name: string; input: OutlierMoveInput; move: unknown; notes?: string[] }[] = [
  {
    name: 'all fine: nothing',
    input: input({}),
    move: null,
  },
  {
    name: 'an outlier with healthy, roomy others: redirect in the configured steps',
    input: input({ verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' } }),
    move: { kind: 'redirect', region: 'us-east-1', steps: [50, 0], partial: false },
  },
  {
    name: 'an outlier still UNKNOWN (its first evidence not confirmed): not evacuated',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      snapshot: twoRegions({ ...load(100), health: 'UNKNOWN' }, load(100)),
    }),
    move: null,
  },
  {
    name: 'global: hold every dial',
    input: input({ verdicts: { 'us-east-1': 'bad', 'us-west-2': 'bad' }, global: true }),
    move: null,
  },
  {
    name: 'an operation runs: wait',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      busy: { region: 'us-west-2', ours: false, id: 'op' },
    }),
    move: null,
  },
  {
    name: 'receivers with room for a fifth of the traffic: a partial move only',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      // west has 120 req/s of headroom; moving d % of 500 needs 5d * 1.2 <= 120: d <= 20.
      snapshot: twoRegions(load(500), load(880)),
    }),
    move: { kind: 'redirect', region: 'us-east-1', steps: [80], partial: true },
    notes: ['limit'],
  },
  {
    name: 'receivers without any headroom: restrict',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      snapshot: twoRegions(load(500), load(1000)),
    }),
    move: null,
    notes: ['restrict'],
  },
  {
    name: 'maxAutoEvacuated reached: restrict',
    input: input({
      verdicts: { 'us-east-1': 'fine', 'us-west-2': 'outlier' },
      state: { ...emptyOutlierState(), evacuated: [evac()] },
      snapshot: twoRegions({ ...load(100), dial: 0 }, load(100)),
    }),
    move: null,
    notes: ['restrict'],
  },
  {
    name: 'three regions, the other two not both healthy: restrict (the gates check every receiver)',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'outlier', 'eu-west-1': 'fine' },
      snapshot: snapshot([east(load(100)), west(load(100)), region('eu-west-1', 53.3, -6.3, load(100))]),
    }),
    move: null,
    notes: ['restrict', 'restrict'],
  },
  {
    name: 'three regions, one already evacuated as an outlier: the next outlier is judged against the rest',
    input: input({
      verdicts: { 'us-east-1': 'unjudged', 'us-west-2': 'outlier', 'eu-west-1': 'fine' },
      state: { ...emptyOutlierState(), evacuated: [evac({ probeAt: now + 60_000 })] },
      snapshot: snapshot([
        east({ ...load(100), dial: 0 }),
        west(load(100)),
        region('eu-west-1', 53.3, -6.3, load(100)),
      ]),
    }),
    move: { kind: 'redirect', region: 'us-west-2', steps: [50, 0], partial: false },
  },
  {
    name: 'a region an operator holds (or a rollout moves) is left alone',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      leaveAlone: new Set(['us-east-1']),
    }),
    move: null,
  },
  {
    name: 'a region failed over after DOWN is the automatic restore’s',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      failedOver: new Set(['us-east-1']),
    }),
    move: null,
  },
  {
    name: 'evacuated and recovered: restore to the dial it had',
    input: input({
      verdicts: { 'us-east-1': 'recovered', 'us-west-2': 'fine' },
      state: { ...emptyOutlierState(), evacuated: [evac({ fromDial: 80 })] },
      snapshot: twoRegions({ ...load(100), dial: 0 }, load(100)),
    }),
    move: { kind: 'restore', region: 'us-east-1', steps: [10, 50, 80], probe: false },
  },
  {
    name: 'evacuated, no traffic, before the cool-down: wait',
    input: input({
      verdicts: { 'us-east-1': 'unjudged', 'us-west-2': 'fine' },
      state: { ...emptyOutlierState(), evacuated: [evac()] },
      snapshot: twoRegions({ ...load(100), dial: 0 }, load(100)),
    }),
    move: null,
  },
  {
    name: 'evacuated, no traffic, after the cool-down: restore as a probe',
    input: input({
      verdicts: { 'us-east-1': 'unjudged', 'us-west-2': 'fine' },
      state: { ...emptyOutlierState(), evacuated: [evac({ probeAt: now - 1 })] },
      snapshot: twoRegions({ ...load(100), dial: 0 }, load(100)),
    }),
    move: { kind: 'restore', region: 'us-east-1', steps: [10], probe: true },
  },
  {
    name: 'probed at dial 10, still too little traffic to judge, never found worse: the next step at once',
    input: input({
      verdicts: { 'us-east-1': 'unjudged', 'us-west-2': 'fine' },
      state: { ...emptyOutlierState(), evacuated: [evac({ probeAt: now + 60_000 })] },
      snapshot: twoRegions({ ...load(100), dial: 10 }, load(100)),
    }),
    move: { kind: 'restore', region: 'us-east-1', steps: [50], probe: true },
  },
  {
    name: 'evacuated and recovered, but global: hold',
    input: input({
      verdicts: { 'us-east-1': 'recovered', 'us-west-2': 'bad' },
      global: true,
      state: { ...emptyOutlierState(), evacuated: [evac()] },
      snapshot: twoRegions({ ...load(100), dial: 0 }, load(100)),
    }),
    move: null,
  },
  {
    name: 'its probe finds it still worse: stop the restore, evacuate again',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      state: { ...emptyOutlierState(), evacuated: [evac({ phase: 'restoring', operation: 'r1' })] },
      snapshot: twoRegions({ ...load(100), dial: 10 }, load(100)),
      busy: { region: 'us-east-1', ours: true, id: 'r1' },
    }),
    move: { kind: 'reevacuate', region: 'us-east-1', abort: 'r1', steps: [0] },
  },
  {
    name: 'partly evacuated, still an outlier, headroom now: move further',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      state: { ...emptyOutlierState(), evacuated: [evac()] },
      snapshot: twoRegions({ ...load(100), dial: 80 }, load(100)),
    }),
    move: { kind: 'redirect', region: 'us-east-1', steps: [50, 0], partial: false },
  },
  {
    name: 'partly evacuated as far as the headroom allows: nothing more (the margin is not spent twice)',
    input: input({
      verdicts: { 'us-east-1': 'outlier', 'us-west-2': 'fine' },
      state: { ...emptyOutlierState(), evacuated: [evac()] },
      snapshot: twoRegions({ ...load(500), dial: 67 }, load(800)),
    }),
    move: null,
  },
];

for (const c of cases) {
  test(`outlier moves: ${c.name}`, () => {
    const { move, notes } = nextOutlierMove(c.input, cfg);
    if (c.move === null) assert.equal(move, null, JSON.stringify(move));
    else {
      const picked = Object.fromEntries(Object.keys(c.move as object).map((k) => [k, (move as never)?.[k]]));
      assert.deepEqual(picked, c.move);
    }
    assert.deepEqual(
      notes.map((n) => n.decision),
      c.notes ?? [],
      notes.map((n) => n.why).join('\n'),
    );
  });
}

test('outlier moves: the probe cool-down doubles per failed probe, at most 16 times', () => {
  assert.deepEqual(
    [0, 1, 2, 4, 9].map((p) => probeDelay(1000, p)),
    [1000, 2000, 4000, 16_000, 16_000],
  );
});
