import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DRILLS, SCENARIO_ORDER } from './scenarios.js';
import { base, noWindow } from './summary-fixture.js';
import type { Summary } from './types.js';

const survived = { ...base.control, survivedRegionLoss: true };

const cohort = (
  answers: 'home' | 'home+fallback',
  ttlS: number,
  failuresByKind: { idempotent: number; postWithKey: number; post: number },
  lastFailureMs: number,
) => ({
  answers,
  ttlS,
  requests: 250,
  failuresByKind,
  lastFailureMs,
  userErrorWindowMs: { ...noWindow, all: lastFailureMs },
  steadyOutsideHomeShare: answers === 'home' ? 0 : 0.5,
});

const failing = (name: string, s: Partial<Summary>) =>
  DRILLS.get(name)!
    .checks({ ...base, ...s })
    .filter((c) => !c.pass)
    .map((c) => c.name);

test('every scenario has a drill', () => {
  assert.deepEqual([...DRILLS.keys()], SCENARIO_ORDER);
});

test('drill checks judge what was measured', () => {
  const cases: { name: string; drill: string; s: Partial<Summary>; expect: string[] }[] = [
    {
      name: 'steady near expected',
      drill: 'steady',
      s: { sharesByPhase: { steady: { 'us-east-1': 0.74, 'us-west-2': 0.26 } } },
      expect: [],
    },
    {
      name: 'steady 50/50 is not what the map predicts',
      drill: 'steady',
      s: { sharesByPhase: { steady: { 'us-east-1': 0.5, 'us-west-2': 0.5 } } },
      expect: ['steady: us-east-1 share near 76.3 %', 'steady: us-west-2 share near 23.7 %'],
    },
    {
      name: 'kong-origins all good',
      drill: 'kong-origins',
      s: {
        failover: { ...base.failover, detectMs: 1500, edgeShiftMs: 200, dnsShiftMs: 3000 },
        sharesByPhase: { outage: { 'us-east-1': 0 } },
        recoveredShare: 0.4,
        restoreSteps: 3,
      },
      expect: [],
    },
    {
      name: 'kong-origins slow DNS, never measured edge',
      drill: 'kong-origins',
      s: {
        failover: { ...base.failover, dnsShiftMs: 7000 },
        sharesByPhase: { outage: { 'us-east-1': 0 } },
        recoveredShare: 0.4,
        restoreSteps: 1,
      },
      expect: [
        'edge stops sending to the dead region within 1 s',
        'DNS (every name server) stops answering with it within 5 s',
        'recovery: it comes back gradually, in steps',
      ],
    },
    {
      name: 'kong: failures inside the TTL window, control survived',
      drill: 'kong',
      s: {
        requests: { total: 1000, ok: 990, failed: 10, failedIdempotent: 10, shed: 0 },
        // The leader died with the region: 6 s to shift DNS, 3 s of them without a leader.
        failover: {
          userErrorWindowMs: noWindow,
          detectMs: 4500,
          edgeShiftMs: 0,
          dnsShiftMs: 6000,
          leaderGapMs: 3000,
          lastFailureMs: 12_000,
          ttlS: 30,
        },
        sharesByPhase: { outage: { 'us-east-1': 0 } },
        control: survived,
        recoveredShare: 0.4,
        restoreSteps: 3,
      },
      expect: [],
    },
    {
      name: 'kong: failures past the TTL, control lost with the region, a region served from elsewhere',
      drill: 'kong',
      s: {
        requests: { total: 1000, ok: 900, failed: 100, failedIdempotent: 100, shed: 0 },
        failover: {
          userErrorWindowMs: noWindow,
          detectMs: null,
          edgeShiftMs: 0,
          dnsShiftMs: 2000,
          lastFailureMs: 9000,
          ttlS: 5,
          failedBeforeKill: 3,
        },
        cohorts: {
          // home at TTL 5: 2 s shift + 5 s TTL + 2 s allows 9 s, the last failure came at 9.5 s.
          'home ttl 5': cohort('home', 5, { idempotent: 30, postWithKey: 2, post: 1 }, 9500),
          'home ttl 30': cohort('home', 30, { idempotent: 60, postWithKey: 3, post: 2 }, 20_000),
          // home+fallback: an unkeyed POST in flight may fail; a keyed one may not.
          'home+fallback ttl 30': cohort(
            'home+fallback',
            30,
            { idempotent: 0, postWithKey: 1, post: 1 },
            300,
          ),
          'home+fallback ttl 5': cohort('home+fallback', 5, { idempotent: 0, postWithKey: 0, post: 1 }, 200),
        },
        sharesByPhase: { outage: { 'us-east-1': 0 } },
        servedByOwnEdge: { 'us-east-1': true, 'us-west-2': false },
        recoveredShare: 0.4,
        restoreSteps: 3,
      },
      expect: [
        'no failed request before the region died',
        'home ttl 5: failures end within DNS shift + TTL after the kill',
        'home+fallback ttl 30: no failed idempotent request, no failed POST with an Idempotency-Key',
        "control survives its region's instance: DOWN declared, restored in steps by another instance",
        'every region was served by its own edge at the start',
      ],
    },
    {
      name: 'split-brain lost a write',
      drill: 'split-brain',
      s: {
        sharesByPhase: { cut: { 'us-east-1': 0.7, 'us-west-2': 0.3 } },
        data: { acknowledged: 40, lost: 1, divergent: 0, staleReads: 0 },
      },
      expect: ['no acknowledged write lost'],
    },
    {
      name: 'split-brain not checked: both data checks fail',
      drill: 'split-brain',
      s: { sharesByPhase: { cut: { 'us-east-1': 0.7, 'us-west-2': 0.3 } }, data: null },
      expect: ['copies are the same after healing', 'no acknowledged write lost'],
    },
    {
      name: 'latency: slow but within bounds, too many retryable errors',
      drill: 'latency',
      s: {
        p99MsByPhase: { slow: 900 },
        errorRateByPhase: { slow: 0.05 },
        retryableErrorRateByPhase: { slow: 0.02 },
      },
      expect: ['slow: errors of retryable requests within 1.0 %'],
    },
  ];
  for (const c of cases) assert.deepEqual(failing(c.drill, c.s), c.expect, c.name);
});
