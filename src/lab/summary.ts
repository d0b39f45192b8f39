import { expectedOverload, type Outage, overloadNote } from '../chaos/drills/shed.js';
import type { Drill, Summary } from '../chaos/drills/types.js';
import type { Controls } from './controls.js';
import type { DnsProbe, HealthChange } from './probes.js';
import { percentile, type Recorder, round } from './recorder.js';

export interface Measured {
  drill: Drill;
  recorder: Recorder;
  controls: Controls;
  probe: DnsProbe;
  changes: HealthChange[];
  capacities: ReadonlyMap<string, number>;
  expectedShares: ReadonlyMap<string, number>;
  rate: number;
  /** Lost writes and divergent keys after the copies settled (split-brain only). */
  data: { lostWrites: number; divergentKeys: number } | null;
  /** The last request line the edge sent to each region's dead origins, ms since start. */
  lastDeadAttempt: ReadonlyMap<string, number>;
  notes: string[];
  dnsProblems: ReadonlyMap<string, number>;
}

function failover(m: Measured): Summary['failover'] {
  const kill = m.controls.kills[0];
  if (!kill) return { detectMs: null, edgeShiftMs: null, dnsShiftMs: null };
  const until = kill.back ?? Number.POSITIVE_INFINITY;
  const down = m.changes.find((c) => c.region === kill.region && c.t >= kill.t && c.health === 'DOWN');
  const lastAttempt = m.lastDeadAttempt.get(kill.region);
  return {
    detectMs: down ? Math.round(down.t - kill.t) : null,
    edgeShiftMs: lastAttempt === undefined ? 0 : Math.round(Math.max(0, lastAttempt - kill.t)),
    dnsShiftMs: m.probe.shiftAway(kill.region, kill.t, until),
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
  const p99MsByPhase: Record<string, number | null> = {};
  const errorRateByPhase: Record<string, number> = {};
  for (const [phase, p] of recorder.phases) {
    const p99 = percentile(p.latencies, 99);
    p99MsByPhase[phase] = p99 === null ? null : Math.round(p99);
    errorRateByPhase[phase] = p.total === 0 ? 0 : round(p.failed / p.total, 4);
  }
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
    p99MsByPhase,
    errorRateByPhase,
    failover: failover(m),
    evacuation: evacuation(m),
    splitBrain: {
      flaps: m.data ? m.probe.flaps() : null,
      lostWrites: m.data?.lostWrites ?? null,
      divergentKeys: m.data?.divergentKeys ?? null,
    },
    declaredDown,
    dnsFlaps: m.probe.flaps(),
    recoveredShare: m.drill.name === 'kong' ? recoveredShare(m, controls.target) : null,
    restoreSteps: m.drill.name === 'kong' ? restoreSteps(m) : null,
    events: recorder.events.map((e) => ({ t: Math.round(e.t), label: e.label })),
    notes: [...m.notes, ...controls.notes],
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
