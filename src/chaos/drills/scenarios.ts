import { RELEASE_DRILLS } from './releases.js';
import { noFailedOrShed } from './shed.js';
import { check, type Drill, type LabControls, type Summary } from './types.js';

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)} %`;
const ms = (x: number | null) => (x === null ? 'not measured' : `${Math.round(x)} ms`);

/** Shares follow geography: each region within 6 points of what territories and population predict. */
function sharesFollowGeography(s: Summary, phase: string) {
  const measured = s.sharesByPhase[phase] ?? {};
  return s.regions.map((r) => {
    const want = s.expectedShares[r] ?? 0;
    const got = measured[r] ?? 0;
    return check(
      `${phase}: ${r} share near ${pct(want)}`,
      Math.abs(got - want) <= 0.06,
      `measured ${pct(got)}`,
    );
  });
}

// Users notice nothing: a shed request counts as a failed one (shed.ts).
const noFailedIdempotent = noFailedOrShed;

const thirds = (d: number) => [d / 3, (2 * d) / 3] as const;

export const steady: Drill = {
  name: 'steady',
  description: 'no fault: shares follow geography',
  async run(lab) {
    lab.phase('steady');
    await lab.at(lab.durationS);
  },
  checks: (s) => [...sharesFollowGeography(s, 'steady'), noFailedIdempotent(s)],
};

/** Checks that hold whether kong kills the whole region or only its origins. */
const recoveryChecks = (s: Summary, what: string) => [
  check(
    'outage: the dead region serves nothing',
    (s.sharesByPhase.outage?.[s.target ?? ''] ?? 1) <= 0.01,
    `share ${pct(s.sharesByPhase.outage?.[s.target ?? ''])}`,
  ),
  check(
    'recovery: traffic comes back to it',
    (s.recoveredShare ?? 0) > 0,
    `share in the last quarter of recovery ${pct(s.recoveredShare)}`,
  ),
  check(
    'recovery: it comes back gradually, in steps',
    (s.restoreSteps ?? 0) >= 2,
    `${s.restoreSteps ?? 0} dials between 0 and 100 after ${what} came back`,
  ),
];

/**
 * 5 s from the moment control can act: when the leader died with the region,
 * nobody declares anything until another instance leads (its lease ran out),
 * and that wait is reported beside the shift.
 */
const dnsShift = (s: Summary, who: string) => {
  const gap = s.failover.leaderGapMs ?? 0;
  return check(
    `DNS (${who}) stops answering with it within 5 s${gap > 0 ? ' of a new control leader' : ''}`,
    s.failover.dnsShiftMs !== null && s.failover.dnsShiftMs <= 5000 + gap,
    gap > 0
      ? `${ms(s.failover.dnsShiftMs)}, of which ${ms(gap)} without a leader`
      : ms(s.failover.dnsShiftMs),
  );
};

/**
 * Users who hold the dead region's address: with `home+fallback` their answer
 * names another region too, so nothing a client may retry fails (shed counts
 * as failed); with `home` they fail until their answer expires: the time
 * until the name servers answered differently (dnsShiftMs, a new control
 * leader's wait included), plus the TTL, plus 1 s because Unbound counts TTLs
 * in whole seconds and serves the last one with TTL 0, plus 1 s for a request
 * in flight then.
 */
function answerPolicyChecks(s: Summary) {
  const cohorts = Object.entries(s.cohorts).filter(([, c]) => c.answers !== undefined);
  const shiftMs = s.failover.dnsShiftMs ?? 5000;
  return cohorts.map(([name, c]) => {
    const failed = `${c.failuresByKind.idempotent} idempotent, ${c.failuresByKind.postWithKey} POST with a key, ${c.failuresByKind.post} POST without failed of ${c.requests}`;
    if (c.answers === 'home+fallback')
      return check(
        `${name}: no failed idempotent request, no failed POST with an Idempotency-Key`,
        c.failuresByKind.idempotent === 0 && c.failuresByKind.postWithKey === 0,
        `${failed}; error window ${ms(c.userErrorWindowMs.all)}`,
      );
    const bound = shiftMs + (c.ttlS ?? 0) * 1000 + 2000;
    return check(
      `${name}: failures end within DNS shift + TTL after the kill`,
      c.lastFailureMs == null || c.lastFailureMs <= bound,
      c.lastFailureMs == null
        ? 'no failed request after the kill'
        : `${failed}; the last ${ms(c.lastFailureMs)} after the kill (window ${ms(c.userErrorWindowMs.all)}), bound ${ms(bound)}`,
    );
  });
}

/**
 * The history check's verdict (src/replication/history/checker.ts): every acknowledged write is in
 * every copy (or overwritten by a newer one), and the copies agree, once `after`.
 */
function dataChecks(s: Summary, after: string) {
  const d = s.data;
  const where = `${s.dataSetup === 'redis+nats' ? 'Redis + NATS' : 'in memory'}`;
  return [
    check(
      `copies are the same after ${after}`,
      d !== null && d.divergent === 0,
      d ? `${d.divergent} divergent keys (${where})` : 'not checked',
    ),
    check(
      'no acknowledged write lost',
      d !== null && d.lost === 0,
      d
        ? `${d.lost} lost of ${d.acknowledged} acknowledged; ${d.staleReads} stale reads (${where})`
        : 'not checked',
    ),
  ];
}

async function outage(lab: LabControls, kill: () => Promise<void>, back: () => Promise<void>, what: string) {
  const [killAt, backAt] = thirds(lab.durationS);
  lab.phase('before');
  await lab.at(killAt);
  lab.phase('outage');
  await kill();
  lab.mark(`${lab.target} ${what} killed`);
  await lab.at(backAt);
  lab.phase('recovery');
  await back();
  lab.mark(`${lab.target} ${what} back`);
  await lab.at(lab.durationS);
}

export const kong: Drill = {
  name: 'kong',
  description:
    'Chaos Kong: the whole region dies at one third (edge, DNS server, control instance, origins) and comes back at two thirds',
  run: (lab) =>
    outage(
      lab,
      () => lab.killRegion(lab.target),
      () => lab.restartRegion(lab.target),
      'region',
    ),
  cohorts: true,
  checks: (s) => {
    const f = s.failover;
    return [
      check(
        'no failed request before the region died',
        (f.failedBeforeKill ?? 0) === 0,
        `${f.failedBeforeKill ?? 0} failed up to a second before the kill`,
      ),
      ...answerPolicyChecks(s),
      check(
        'live edges stop sending to the dead region within 1 s',
        f.edgeShiftMs !== null && f.edgeShiftMs <= 1000,
        ms(f.edgeShiftMs),
      ),
      dnsShift(s, 'the surviving name servers'),
      check(
        "control survives its region's instance: DOWN declared, restored in steps by another instance",
        s.control.survivedRegionLoss === true,
        `detected in ${ms(f.detectMs)}; ${s.restoreSteps ?? 0} restore steps; setup ${s.control.setup}, ` +
          `leaders ${s.control.leaders.map((l) => (l.region === null ? 'none' : l.region || 'outside every region')).join(' -> ') || 'unknown'}`,
      ),
      check(
        'every region was served by its own edge at the start',
        s.regions.every((r) => s.servedByOwnEdge[r] === true),
        Object.entries(s.servedByOwnEdge)
          .map(([r, ok]) => `${r} ${ok ? 'yes' : 'no'}`)
          .join(', '),
      ),
      ...recoveryChecks(s, 'the region'),
      ...dataChecks(s, 'the region came back'),
    ];
  },
};

export const kongOrigins: Drill = {
  name: 'kong-origins',
  description:
    'Chaos Kong, origins only: every origin of one region dies at one third, comes back at two thirds',
  run: (lab) =>
    outage(
      lab,
      () => lab.killOrigins(lab.target),
      () => lab.restartOrigins(lab.target),
      'origins',
    ),
  checks: (s) => [
    noFailedIdempotent(s),
    check(
      'edge stops sending to the dead region within 1 s',
      s.failover.edgeShiftMs !== null && s.failover.edgeShiftMs <= 1000,
      ms(s.failover.edgeShiftMs),
    ),
    dnsShift(s, 'every name server'),
    ...recoveryChecks(s, 'the origins'),
  ],
};

export const evacuate: Drill = {
  name: 'evacuate',
  description: 'graceful Chaos Kong: evacuate a region through control in steps, then restore it',
  async run(lab) {
    lab.phase('before');
    await lab.at(lab.durationS * 0.2);
    lab.phase('evacuating');
    await lab.evacuate(lab.target);
    lab.phase('evacuated');
    await lab.at(lab.durationS * 0.6);
    lab.phase('restoring');
    await lab.restore(lab.target);
    lab.phase('restored');
    await lab.at(lab.durationS);
  },
  checks: (s) => [
    noFailedIdempotent(s),
    check(
      'evacuated in steps',
      (s.evacuation.steps ?? 0) >= 2,
      `${s.evacuation.steps ?? 'no'} steps in ${s.evacuation.durationS ?? '?'} s`,
    ),
    check(
      'evacuated: the region serves (almost) nothing',
      (s.sharesByPhase.evacuated?.[s.target ?? ''] ?? 1) <= 0.02,
      `share ${pct(s.sharesByPhase.evacuated?.[s.target ?? ''])}`,
    ),
    check(
      'no receiving region above 90 % of capacity',
      s.evacuation.maxLoadRatio !== null && s.evacuation.maxLoadRatio <= 0.9,
      `max load ${pct(s.evacuation.maxLoadRatio)} of capacity`,
    ),
  ],
};

export const splitBrain: Drill = {
  name: 'split-brain',
  description: 'the link between regions is cut for the middle third',
  async run(lab) {
    const [cut, heal] = thirds(lab.durationS);
    lab.phase('before');
    await lab.at(cut);
    lab.phase('cut');
    await lab.cutLinks('blackhole');
    lab.mark('links cut');
    await lab.at(heal);
    lab.phase('healed');
    await lab.cutLinks(false);
    lab.mark('links healed');
    await lab.at(lab.durationS);
  },
  checks: (s) => [
    noFailedIdempotent(s),
    ...s.regions.map((r) =>
      check(
        `cut: ${r} keeps serving its own users`,
        (s.sharesByPhase.cut?.[r] ?? 0) > 0,
        `share ${pct(s.sharesByPhase.cut?.[r])}`,
      ),
    ),
    check('nothing is declared DOWN', s.declaredDown.length === 0, s.declaredDown.join(', ') || 'none'),
    check('no DNS answer flips', s.dnsFlaps === 0, `${s.dnsFlaps} changes seen by the probes`),
    ...dataChecks(s, 'healing'),
  ],
};

const BOUNDS = { latencyP99Ms: 1500, latencyErrorRate: 0.01 };

/** Latency Monkey: the target's origins get slower and fail some requests for the middle third. */
export const latency: Drill = {
  name: 'latency',
  description: "Latency Monkey: one region's origins get +300 ms and 5 % errors",
  async run(lab) {
    const fault = { latencyMs: 300, errorRate: 0.05 };
    const [start, end] = thirds(lab.durationS);
    lab.phase('before');
    await lab.at(start);
    lab.phase('slow');
    await lab.setOriginFault(lab.target, fault);
    lab.mark(`${lab.target}: +${fault.latencyMs} ms, ${fault.errorRate * 100} % errors`);
    await lab.at(end);
    lab.phase('after');
    await lab.setOriginFault(lab.target, null);
    lab.mark('fault removed');
    await lab.at(lab.durationS);
  },
  checks: (s) => {
    // A POST without an Idempotency-Key that an origin fails is not sent again by anyone: those
    // errors reach users, and are shown beside the judged rate.
    const errors = s.retryableErrorRateByPhase.slow ?? 1;
    return [
      check(
        `slow: p99 within ${BOUNDS.latencyP99Ms} ms`,
        (s.p99MsByPhase.slow ?? Infinity) <= BOUNDS.latencyP99Ms,
        ms(s.p99MsByPhase.slow ?? null),
      ),
      check(
        `slow: errors of retryable requests within ${pct(BOUNDS.latencyErrorRate)}`,
        errors <= BOUNDS.latencyErrorRate,
        `${pct(errors)} (all requests, POSTs without a key included: ${pct(s.errorRateByPhase.slow ?? null)})`,
      ),
    ];
  },
};

export const DRILLS: ReadonlyMap<string, Drill> = new Map(
  [steady, kong, kongOrigins, evacuate, splitBrain, latency, ...RELEASE_DRILLS].map((d) => [d.name, d]),
);
export const SCENARIO_ORDER = [
  'steady',
  'kong',
  'kong-origins',
  'evacuate',
  'split-brain',
  'latency',
  'bad-deploy',
  'global-bad',
  'rollout-good',
  'rollout-bad',
];
