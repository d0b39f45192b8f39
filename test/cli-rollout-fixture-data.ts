// Data for the FIXTURE of control's rollout API (test/cli-rollout-fixture.ts): RolloutRecords,
// judgements, outlier states and audit entries in the shapes of SPEC14.md, scripted as control would
// produce them for a good rollout of v2 and a bad v3 caught in the first wave's canary.
import type {
  OutlierState,
  RolloutJudgement,
  RolloutRecord,
  RolloutRegion,
} from '../src/cli/rollout-record.js';

export const FIXTURE_TOKEN = 'fixture-operator-token';
const T0 = Date.UTC(2026, 11, 6, 19, 30, 0);
export const REGIONS = ['us-east-1', 'us-west-2'] as const;

type Regions = Partial<Record<(typeof REGIONS)[number], Partial<RolloutRegion>>>;

/** A RolloutRecord of SPEC14 with two one-region drain waves; `step` moves the clock 10 s a step. */
export function rolloutRecord(
  step: number,
  fields: Partial<Omit<RolloutRecord, 'regions'>> & { regions?: Regions } = {},
): RolloutRecord {
  const at = T0 + step * 10_000;
  const regions: Record<string, RolloutRegion> = {};
  for (const id of REGIONS)
    regions[id] = { version: 'v1', phase: 'waiting', dialBefore: 100, ...fields.regions?.[id] };
  return {
    id: 'r-fixture-1',
    version: 'v2',
    previousVersion: 'v1',
    status: 'running',
    phase: 'draining',
    waves: REGIONS.map((id) => ({ regions: [id], strategy: 'drain' as const })),
    waveIndex: 0,
    regionsReached: [],
    judgements: [],
    startedAt: T0,
    updatedAt: at,
    phaseAt: at,
    message: '',
    who: 'olivia',
    step: 0,
    move: null,
    action: null,
    rollbackLeft: [],
    failure: null,
    abortRequested: null,
    ...fields,
    regions,
  };
}

export const passJudgement = (region: string, dial: number, step: number): RolloutJudgement => ({
  at: T0 + step * 10_000,
  region,
  dial,
  pass: true,
  why: 'canary no worse than the baseline',
  metrics: [
    { name: 'error-rate', canary: 0.001, baseline: 0.0012, pValue: 0.61, pass: true },
    { name: 'p99', canary: 121, baseline: 118, pValue: 0.44, pass: true },
  ],
});

export const FAILED_JUDGEMENT: RolloutJudgement = {
  at: T0 + 40_000,
  region: 'us-east-1',
  dial: 10,
  pass: false,
  why: 'error-rate: canary 0.31 > baseline 0.002 + 0.02 (p 0.0001)',
  metrics: [
    { name: 'error-rate', canary: 0.31, baseline: 0.002, pValue: 0.0001, pass: false },
    { name: 'p99', canary: 268, baseline: 118, pValue: 0.000003, pass: false },
  ],
};

/** v2 across both regions: drain, deploy, canary, bake, next wave, done. */
export function goodRollout(): RolloutRecord[] {
  const e = 'us-east-1';
  const w = 'us-west-2';
  const j1 = [passJudgement(e, 10, 3), passJudgement(e, 100, 4)];
  const j2 = [...j1, passJudgement(w, 10, 8), passJudgement(w, 100, 9)];
  return [
    // Control starts a rollout before its first wave (waveIndex -1).
    rolloutRecord(0, { phase: 'between-waves', waveIndex: -1, message: 'starting' }),
    rolloutRecord(0, { phase: 'draining', regions: { [e]: { phase: 'draining' } } }),
    rolloutRecord(1, { phase: 'deploying', regionsReached: [e], regions: { [e]: { phase: 'deploying' } } }),
    rolloutRecord(2, {
      phase: 'canary',
      regionsReached: [e],
      regions: { [e]: { version: 'v2', phase: 'canary' } },
    }),
    rolloutRecord(4, {
      phase: 'between-waves',
      regionsReached: [e],
      judgements: j1,
      regions: { [e]: { version: 'v2', phase: 'done' } },
    }),
    rolloutRecord(6, {
      phase: 'deploying',
      waveIndex: 1,
      regionsReached: [e, w],
      judgements: j1,
      regions: { [e]: { version: 'v2', phase: 'done' }, [w]: { phase: 'deploying' } },
    }),
    rolloutRecord(8, {
      phase: 'baking',
      waveIndex: 1,
      regionsReached: [e, w],
      judgements: j2.slice(0, 3),
      regions: { [e]: { version: 'v2', phase: 'done' }, [w]: { version: 'v2', phase: 'baking' } },
    }),
    rolloutRecord(10, {
      status: 'done',
      phase: 'done',
      waveIndex: 1,
      regionsReached: [e, w],
      judgements: j2,
      message: 'every region runs v2',
      regions: { [e]: { version: 'v2', phase: 'done' }, [w]: { version: 'v2', phase: 'done' } },
    }),
  ];
}

/** v3 caught in the first wave's canary and rolled back; us-west-2 never runs it. */
export function badRollout(): RolloutRecord[] {
  const e = 'us-east-1';
  const base = { version: 'v3', regionsReached: [e] };
  return [
    rolloutRecord(0, { version: 'v3', phase: 'draining', regions: { [e]: { phase: 'draining' } } }),
    rolloutRecord(1, { ...base, phase: 'deploying', regions: { [e]: { phase: 'deploying' } } }),
    rolloutRecord(2, { ...base, phase: 'canary', regions: { [e]: { version: 'v3', phase: 'canary' } } }),
    rolloutRecord(4, {
      ...base,
      phase: 'rolling-back',
      judgements: [FAILED_JUDGEMENT],
      message: `rolling back: ${FAILED_JUDGEMENT.why}`,
      regions: { [e]: { version: 'v3', phase: 'rolling-back' } },
    }),
    rolloutRecord(5, {
      ...base,
      phase: 'restoring',
      judgements: [FAILED_JUDGEMENT],
      regions: { [e]: { version: 'v1', phase: 'restoring' } },
    }),
    rolloutRecord(7, {
      ...base,
      status: 'rolled-back',
      phase: 'done',
      judgements: [FAILED_JUDGEMENT],
      message: `rolled back us-east-1: ${FAILED_JUDGEMENT.why}`,
      regions: { [e]: { version: 'v1', phase: 'done' } },
    }),
  ];
}

export const OUTLIER: OutlierState = {
  evacuated: [
    {
      region: 'us-east-1',
      at: T0 + 50_000,
      why: 'error rate 31 % vs 0.2 % elsewhere',
      fromDial: 100,
      phase: 'evacuated',
    },
  ],
  global: null,
  decisions: [
    { at: T0 + 50_000, region: 'us-east-1', decision: 'redirect', why: 'others healthy, 60 % headroom' },
  ],
};

export const GLOBAL_OUTLIER: OutlierState = {
  evacuated: [],
  global: { at: T0 + 60_000, why: 'every region errs alike (31 %, 30 %): moving traffic contains nothing' },
  decisions: [{ at: T0 + 60_000, decision: 'hold-global', why: 'all regions equally bad' }],
};

/** Audit entries of a rollback as control writes them (SPEC14's actions; details carry a message, no dial). */
export function rollbackAudit(): Record<string, unknown>[] {
  const entry = (step: number, action: string, target: string, message: string) => ({
    at: T0 + step * 10_000,
    who: 'olivia',
    role: 'operator',
    action,
    target,
    details: { rollout: 'r-fixture-1', message },
  });
  return [
    entry(5, 'rollout-rollback', 'v3', `rolled back us-east-1: ${FAILED_JUDGEMENT.why}`),
    entry(4, 'rollout-judgement', 'us-east-1', FAILED_JUDGEMENT.why),
    entry(2, 'rollout-step', 'v3', 'canary at dial 10: baking 10000 ms'),
    entry(0, 'rollout-start', 'v3', 'starting'),
  ];
}
