import { expectedOverload, type Outage, overloadNote } from '../chaos/drills/shed.js';
import type { CohortSummary, Drill, Summary } from '../chaos/drills/types.js';
import type { DataCheck } from '../replication/history/checker.js';
import type { Cohort } from './cohorts.js';
import type { Controls } from './controls.js';
import type { DataSetup } from './data-nodes.js';
import type { ControlSetup } from './deployment.js';
import { errorWindow } from './error-window.js';
import type { LeaderWatch } from './leaders.js';
import type { DnsProbe, HealthChange } from './probes.js';
import { percentile, type Recorder, round } from './recorder.js';
import { outlierSummary, rolloutSummary, servedVersions } from './release-summary.js';

/** An answer a user got from its resolver: when (ms since start), its cohort, the regions it named. */
export interface ResolverAnswer {
  t: number;
  cohort: string;
  regions: string[];
}

export interface Measured {
  drill: Drill;
  recorder: Recorder;
  controls: Controls;
  probe: DnsProbe;
  /** Every answer users got from their resolver (Traffic.answers). */
  answers?: readonly ResolverAnswer[];
  changes: HealthChange[];
  capacities: ReadonlyMap<string, number>;
  expectedShares: ReadonlyMap<string, number>;
  rate: number;
  /** The history check after the copies settled (kong and split-brain; null otherwise). */
  data: DataCheck | null;
  /** Where the sample service's data lived. */
  dataSetup: DataSetup;
  /** The last request line the edge sent to each region's dead origins, ms since start. */
  lastDeadAttempt: ReadonlyMap<string, number>;
  notes: string[];
  dnsProblems: ReadonlyMap<string, number>;
  control: {
    setup: ControlSetup;
    /** Control instance URL -> the region it runs in ('' outside every region). */
    regions: ReadonlyMap<string, string>;
    leaders: LeaderWatch | undefined;
  };
  servedByOwnEdge: ReadonlyMap<string, boolean>;
  /** Steered answers' TTL, seconds. */
  ttlS: number;
  /** The answer-policy cohorts users were split into (none: one group, ''). */
  cohorts?: readonly Cohort[];
}

/** The summary's data block: the history check's counts. */
export function dataSummary(d: DataCheck | null): Summary['data'] {
  return (
    d && { acknowledged: d.acknowledged, lost: d.lost, divergent: d.divergent, staleReads: d.staleReads }
  );
}

/** Where user error windows start: the kill, or the start of the run when nothing was killed. */
const windowStart = (m: Measured) => m.controls.kills[0]?.t ?? 0;

function failover(m: Measured): Summary['failover'] {
  const kill = m.controls.kills[0];
  const userErrorWindowMs = errorWindow(m.recorder.failed, windowStart(m));
  if (!kill) return { detectMs: null, edgeShiftMs: null, dnsShiftMs: null, userErrorWindowMs };
  const until = kill.back ?? Number.POSITIVE_INFINITY;
  const down = m.changes.find((c) => c.region === kill.region && c.t >= kill.t && c.health === 'DOWN');
  const lastAttempt = m.lastDeadAttempt.get(kill.region);
  const shift = {
    detectMs: down ? Math.round(down.t - kill.t) : null,
    edgeShiftMs: lastAttempt === undefined ? 0 : Math.round(Math.max(0, lastAttempt - kill.t)),
    dnsShiftMs: m.probe.shiftAway(kill.region, kill.t, until),
    resolverShiftMs: resolverShift(m.answers, m.cohorts?.find((c) => c.own)?.name ?? null, kill),
    userErrorWindowMs,
  };
  if (!kill.whole) return shift;
  const after = m.recorder.failed.filter((f) => f.at >= kill.t);
  const last = after.length === 0 ? undefined : Math.max(...after.map((f) => f.at));
  return {
    ...shift,
    // Steady state: failures a second or more before the kill (a request in flight when the
    // region died, or held up by a busy machine until it had, failed because of the kill).
    failedBeforeKill: m.recorder.failed.filter((f) => f.at <= kill.t - 1000).length,
    leaderGapMs: leaderGap(m, kill),
    lastFailureMs: last === undefined ? null : Math.round(last - kill.t),
    ttlS: m.ttlS,
  };
}

/**
 * ms after the kill of the last answer users got from their resolver that still named the dead
 * region (anywhere in it), before it came back; 0 when none did. Only users whose own copy expired
 * (or whose every address failed) ask, so this is what users saw, not what one probe saw.
 */
export function resolverShift(
  answers: readonly ResolverAnswer[] | undefined,
  cohort: string | null,
  kill: { region: string; t: number; back: number | null },
): number | null {
  if (!answers) return null;
  let last = 0;
  for (const a of answers)
    if (
      (cohort === null || a.cohort === cohort) &&
      a.t >= kill.t &&
      a.t < (kill.back ?? Number.POSITIVE_INFINITY) &&
      a.regions.includes(kill.region)
    )
      last = Math.max(last, a.t - kill.t);
  return Math.round(last);
}

/** ms after the kill until an instance led again (0 when the leader lived on), null when none did. */
function leaderGap(m: Measured, kill: { t: number; back: number | null }): number | null {
  const timeline = m.control.leaders?.timeline;
  if (!timeline) return null;
  const lost = timeline.find((s) => s.t >= kill.t && s.t <= (kill.back ?? Infinity) && s.leader === null);
  if (!lost) return 0;
  const regained = timeline.find((s) => s.t > lost.t && s.leader !== null);
  return regained ? Math.round(regained.t - kill.t) : null;
}

function control(m: Measured, restoreSteps: number | null): Summary['control'] {
  const watch = m.control.leaders;
  const regionOf = (url: string | null) => (url === null ? null : (m.control.regions.get(url) ?? null));
  const kill = m.controls.kills[0];
  let survivedRegionLoss: boolean | null = null;
  if (kill?.whole && watch) {
    const down = m.changes.find(
      (c) =>
        c.region === kill.region && c.health === 'DOWN' && c.t >= kill.t && c.t <= (kill.back ?? Infinity),
    );
    const firstStep = m.changes.find(
      (c) => c.region === kill.region && kill.back !== null && c.t >= kill.back && c.dial > 0 && c.dial < 100,
    );
    const otherLeader = (t: number) => {
      const region = regionOf(watch.leaderAt(t));
      return region !== null && region !== kill.region;
    };
    survivedRegionLoss =
      down !== undefined &&
      firstStep !== undefined &&
      (restoreSteps ?? 0) >= 2 &&
      otherLeader(down.t) &&
      otherLeader(firstStep.t);
  }
  return {
    setup: m.control.setup,
    instances: m.control.regions.size,
    leaderChanges: watch ? watch.changes() : null,
    leaders: (watch?.timeline ?? []).map((s) => ({ t: Math.round(s.t), region: regionOf(s.leader) })),
    survivedRegionLoss,
  };
}

/** How many distinct dials `keep` accepts the region had between `from` and `to` (ms since start). */
function dialsSeen(m: Measured, region: string, from: number, to: number, keep: (dial: number) => boolean) {
  const dials = m.changes.filter((c) => c.region === region && c.t >= from && c.t <= to).map((c) => c.dial);
  return new Set(dials.filter(keep)).size;
}

function evacuation(m: Measured): Summary['evacuation'] {
  const ev = m.controls.evacuations.find((e) => e.kind === 'evacuate');
  if (!ev) return { steps: null, durationS: null, maxLoadRatio: null };
  const end = ev.endedAt ?? Number.POSITIVE_INFINITY;
  const steps = dialsSeen(m, ev.region, ev.startedAt, end + 1000, (d) => d < 100);
  // Load of every receiving region, per second, from the start of the evacuation to the end of the run.
  let maxLoadRatio = 0;
  for (const b of m.recorder.buckets) {
    if (b.second * 1000 < ev.startedAt) continue;
    for (const [region, served] of b.byRegion) {
      if (region === ev.region || !m.capacities.has(region)) continue;
      maxLoadRatio = Math.max(maxLoadRatio, served / m.capacities.get(region)!);
    }
  }
  return {
    steps,
    durationS: ev.endedAt === null ? null : round((ev.endedAt - ev.startedAt) / 1000, 1),
    maxLoadRatio: round(maxLoadRatio, 3),
  };
}

/** Share of the target in the last quarter of the recovery phase (kong). */
function recoveredShare(m: Measured, target: string): number | null {
  const recovery = m.recorder.buckets.filter((b) => b.phase === 'recovery');
  const tail = recovery.slice(Math.floor(recovery.length * 0.75), Math.max(recovery.length - 1, 1));
  const ok = tail.reduce((s, b) => s + b.ok, 0);
  if (ok === 0) return null;
  return round(tail.reduce((s, b) => s + (b.byRegion.get(target) ?? 0), 0) / ok, 3);
}

/** Distinct dials between 0 and 100 the killed region went through after its origins came back (kong). */
function restoreSteps(m: Measured): number | null {
  const kill = m.controls.kills[0];
  if (kill?.back == null) return null;
  return dialsSeen(m, kill.region, kill.back, Number.POSITIVE_INFINITY, (d) => d > 0 && d < 100);
}

const ms = (values: readonly number[], p: number) => {
  const x = percentile(values, p);
  return x === null ? null : Math.round(x);
};

function latencyByTerritory(recorder: Recorder): Summary['latencyByTerritory'] {
  const out: Summary['latencyByTerritory'] = {};
  for (const [home, phases] of recorder.territories) {
    out[home] = {};
    for (const [phase, latencies] of phases)
      out[home][phase] = { p50Ms: ms(latencies, 50), p99Ms: ms(latencies, 99) };
  }
  return out;
}

const share = (part: number, whole: number) => (whole === 0 ? null : round(part / whole, 3));

function cohorts(m: Measured): Record<string, CohortSummary> {
  const out: Record<string, CohortSummary> = {};
  const kill = m.controls.kills[0];
  for (const [name, c] of m.recorder.cohorts) {
    const def = m.cohorts?.find((d) => d.name === name);
    const after = kill ? m.recorder.failed.filter((f) => f.cohort === name && f.at >= kill.t) : [];
    out[name] = {
      ...(def ? { hostname: def.hostname, answers: def.answers, ttlS: def.ttl } : {}),
      lastFailureMs: after.length === 0 ? null : Math.round(Math.max(...after.map((f) => f.at)) - kill!.t),
      resolverShiftMs: kill ? resolverShift(m.answers, name, kill) : null,
      requests: c.requests,
      failuresByKind: { ...c.failedByKind },
      userErrorWindowMs: errorWindow(
        m.recorder.failed.filter((f) => f.cohort === name),
        windowStart(m),
      ),
      steadyOutsideHomeShare: share(c.steadyOutsideHome, c.steadyOk),
      steadyP50Ms: ms(c.steadyLatencies, 50),
      steadyP99Ms: ms(c.steadyLatencies, 99),
    };
  }
  return out;
}

/** Regions out of service during the run: killed until back, evacuated (dial 0) until restored. */
function outages(m: Measured): Outage[] {
  const end = m.controls.durationS * 1000;
  const killed = m.controls.kills.map((k) => ({ region: k.region, fromMs: k.t, toMs: k.back ?? end }));
  const evacuated = m.controls.evacuations
    .filter((e) => e.kind === 'evacuate' && e.endedAt !== null)
    .map((e) => {
      const restore = m.controls.evacuations.find(
        (r) => r.kind !== 'evacuate' && r.region === e.region && r.startedAt >= e.startedAt,
      );
      return { region: e.region, fromMs: e.endedAt!, toMs: restore?.startedAt ?? end };
    });
  return [...killed, ...evacuated];
}

export function summarize(m: Measured): Summary {
  const { recorder, controls } = m;
  const p50MsByPhase: Record<string, number | null> = {};
  const p99MsByPhase: Record<string, number | null> = {};
  const errorRateByPhase: Record<string, number> = {};
  const retryableErrorRateByPhase: Record<string, number> = {};
  for (const [phase, p] of recorder.phases) {
    p50MsByPhase[phase] = ms(p.latencies, 50);
    p99MsByPhase[phase] = ms(p.latencies, 99);
    errorRateByPhase[phase] = p.total === 0 ? 0 : round(p.failed / p.total, 4);
    retryableErrorRateByPhase[phase] = p.retryable === 0 ? 0 : round(p.retryableFailed / p.retryable, 4);
  }
  const steady = [...recorder.cohorts.values()];
  const kong = m.drill.name.startsWith('kong');
  const split = m.drill.name === 'split-brain';
  const steps = kong ? restoreSteps(m) : null;
  const declaredDown = [...new Set(m.changes.filter((c) => c.health === 'DOWN').map((c) => c.region))];
  const summary: Summary = {
    scenario: m.drill.name,
    durationS: controls.durationS,
    rate: m.rate,
    regions: [...controls.regions],
    target: controls.target,
    requests: { ...recorder.totals },
    failures: Object.fromEntries([
      ...recorder.failures,
      ...[...m.dnsProblems].map(([k, n]) => [`DNS: ${k}`, n] as const),
    ]),
    sharesByPhase: recorder.sharesByPhase(),
    expectedShares: Object.fromEntries([...m.expectedShares].map(([r, s]) => [r, round(s, 3)])),
    p50MsByPhase,
    p99MsByPhase,
    latencyByTerritory: latencyByTerritory(recorder),
    errorRateByPhase,
    retryableErrorRateByPhase,
    failuresByKind: { ...recorder.failedByKind },
    steadyOutsideHomeShare: share(
      steady.reduce((s, c) => s + c.steadyOutsideHome, 0),
      steady.reduce((s, c) => s + c.steadyOk, 0),
    ),
    cohorts: cohorts(m),
    failover: failover(m),
    evacuation: evacuation(m),
    splitBrain: {
      flaps: split ? m.probe.flaps() : null,
      lostWrites: split ? (m.data?.lost ?? null) : null,
      divergentKeys: split ? (m.data?.divergent ?? null) : null,
    },
    dataSetup: m.dataSetup,
    data: dataSummary(m.data),
    declaredDown,
    dnsFlaps: m.probe.flaps(),
    recoveredShare: kong ? recoveredShare(m, controls.target) : null,
    restoreSteps: steps,
    control: control(m, steps),
    servedByOwnEdge: Object.fromEntries(m.servedByOwnEdge),
    rollout: rolloutSummary(controls.release?.seen.rollout),
    outlier: outlierSummary(controls.release?.seen, controls.deploys, m.changes, (r) => controls.fullDial(r)),
    versions: {
      deploys: controls.deploys.map((d) => ({
        t: Math.round(d.t),
        region: d.region,
        version: d.version,
        by: d.by,
        phase: d.phase,
      })),
      served: servedVersions(recorder.buckets, controls.regions),
    },
    seconds: { total: recorder.buckets.map((b) => b.total), failed: recorder.buckets.map((b) => b.failed) },
    events: recorder.events.map((e) => ({ t: Math.round(e.t), label: e.label })),
    notes: [
      ...m.notes,
      ...controls.notes,
      `request mix: ${recorder.requestsByKind.idempotent} idempotent, ${recorder.requestsByKind.postWithKey} POST with an Idempotency-Key, ${recorder.requestsByKind.post} POST without`,
      `${recorder.multiTry} requests took more than one try (another address of the answer, or a retry)`,
    ],
    verdict: { pass: false, failures: [], checks: [] },
  };
  const overload = expectedOverload(m.rate, m.capacities, outages(m), controls.durationS * 1000);
  if (overload) {
    summary.overload = overload;
    summary.notes.push(overloadNote(overload));
  }
  const checks = m.drill.checks(summary);
  const failures = checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.detail}`);
  summary.verdict = { pass: failures.length === 0, failures, checks };
  return summary;
}
