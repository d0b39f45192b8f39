// A complete summary with nothing measured, for tests that set only what they judge.
import type { Summary } from './types.js';

export const noWindow = { all: null, idempotent: null, postWithKey: null, post: null };
export const base: Summary = {
  scenario: 'x',
  durationS: 30,
  rate: 60,
  regions: ['us-east-1', 'us-west-2'],
  target: 'us-east-1',
  requests: { total: 1000, ok: 1000, failed: 0, failedIdempotent: 0, shed: 0 },
  failures: {},
  sharesByPhase: {},
  expectedShares: { 'us-east-1': 0.763, 'us-west-2': 0.237 },
  p50MsByPhase: {},
  p99MsByPhase: {},
  latencyByTerritory: {},
  errorRateByPhase: {},
  failuresByKind: { idempotent: 0, postWithKey: 0, post: 0 },
  steadyOutsideHomeShare: null,
  cohorts: {},
  failover: {
    detectMs: null,
    edgeShiftMs: null,
    dnsShiftMs: null,
    userErrorWindowMs: noWindow,
  },
  evacuation: { steps: null, durationS: null, maxLoadRatio: null },
  splitBrain: { flaps: null, lostWrites: null, divergentKeys: null },
  declaredDown: [],
  dnsFlaps: 0,
  recoveredShare: null,
  restoreSteps: null,
  events: [],
  notes: [],
  control: { setup: 'etcd', instances: 2, leaderChanges: 0, leaders: [], survivedRegionLoss: null },
  servedByOwnEdge: { 'us-east-1': true, 'us-west-2': true },
  verdict: { pass: false, failures: [], checks: [] },
};
