// What control does about relative health (src/core/relative-health.ts): evacuate an outlier
// (redirect), leave it where it is (restrict: no headroom, too many evacuated), hold every dial
// (global), or bring an evacuated region back (restore). Pure; one move at a time, since control
// runs one operation at a time.
import { planMove, withDial } from './evacuation-plan.js';
import type { Snapshot } from './model.js';
import type { RelativeJudgement } from './relative-health.js';

/** A region control evacuated as an outlier. */
export interface OutlierEvacuation {
  region: string;
  at: number;
  why: string;
  /** The dial it had before: an automatic restore goes back to it. */
  fromDial: number;
  /** evacuating: its evacuation runs; evacuated: done (or stopped by gates); restoring: its restore runs. */
  phase: 'evacuating' | 'evacuated' | 'restoring';
  /** The operation moving it now (evacuating, restoring). */
  operation?: string;
  /** When a region with too little traffic to judge is restored anyway (the first step probes it). */
  probeAt?: number;
  /** Probes that found it still worse: each doubles the cool-down. */
  probes?: number;
}

export type OutlierDecision = 'redirect' | 'restrict' | 'hold-global' | 'restore' | 'limit';

/** Kept by control (ControlState.outlier): shown in status, explain, the dashboard. */
export interface OutlierState {
  evacuated: OutlierEvacuation[];
  global: { at: number; why: string } | null;
  /** Newest last; the last OUTLIER_DECISIONS_KEPT. */
  decisions: { at: number; region?: string; decision: OutlierDecision; why: string }[];
}

export const OUTLIER_DECISIONS_KEPT = 20;
export const emptyOutlierState = (): OutlierState => ({ evacuated: [], global: null, decisions: [] });

export interface OutlierMoveConfig {
  /** Evacuation dials, going down. */
  steps: readonly number[];
  /** Restore dials, going up (capped at the dial the region had). */
  restoreSteps: readonly number[];
  /** Headroom the receivers need on top of the moved load (gates.margin). */
  margin: number;
  /** null: all regions but one. */
  maxAutoEvacuated: number | null;
  probeAfterMs: number;
}

export interface OutlierMoveInput {
  judgement: RelativeJudgement;
  snapshot: Snapshot;
  state: OutlierState;
  /** An operation is running (control runs one at a time): nothing new starts. */
  busy: { region: string; ours: boolean; id: string } | null;
  /** Regions control failed over after DOWN: the automatic restore owns them. */
  failedOver: ReadonlySet<string>;
  /** Regions an operator holds, or another mechanism moves (a rollout's wave): judged, never moved here. */
  leaveAlone?: ReadonlySet<string>;
  now: number;
}

export type OutlierMove =
  | { kind: 'redirect'; region: string; steps: number[]; why: string; partial: boolean }
  | { kind: 'restore'; region: string; steps: number[]; why: string; probe: boolean }
  /** Its restore found it still worse: stop that restore and evacuate it again. */
  | { kind: 'reevacuate'; region: string; abort: string; steps: number[]; why: string };

export interface OutlierNote {
  region?: string;
  decision: 'restrict' | 'limit';
  why: string;
}

/** The next move, if any, and decisions not to move (for the record). */
export function nextOutlierMove(
  input: OutlierMoveInput,
  cfg: OutlierMoveConfig,
): { move: OutlierMove | null; notes: OutlierNote[] } {
  const { judgement, snapshot, state, busy, now } = input;
  const notes: OutlierNote[] = [];
  const entry = (id: string) => state.evacuated.find((e) => e.region === id);
  // A restore that probes a region still worse than the others: back out at once.
  for (const e of state.evacuated) {
    const j = judgement.regions.get(e.region);
    if (e.phase !== 'restoring' || j?.verdict !== 'outlier' || !busy?.ours || busy.region !== e.region)
      continue;
    const dial = snapshot.regions.get(e.region)?.dial ?? 0;
    const steps = cfg.steps.filter((d) => d < dial);
    if (steps.length > 0)
      return { move: { kind: 'reevacuate', region: e.region, abort: busy.id, steps, why: j.why }, notes };
  }
  if (busy) return { move: null, notes };
  // Every region bad alike: hold every dial, restores included.
  if (judgement.global.raised) return { move: null, notes };
  const alone = (id: string) => input.leaveAlone?.has(id) === true;
  for (const e of state.evacuated) {
    if (e.phase !== 'evacuated' || alone(e.region)) continue;
    const dial = snapshot.regions.get(e.region)?.dial ?? 0;
    const steps = [...cfg.restoreSteps.filter((d) => d > dial && d < e.fromDial), e.fromDial];
    if (dial >= e.fromDial) continue;
    const j = judgement.regions.get(e.region);
    if (j?.verdict === 'recovered')
      return {
        move: { kind: 'restore', region: e.region, steps, why: `recovered: ${j.why}`, probe: false },
        notes,
      };
    // A probe it came through (held at its dial, never found worse) but whose trickle was still too small
    // to judge goes on to the next step at once: only more traffic can judge it, and a worse verdict there
    // evacuates it again.
    const probed = dial > 0;
    if (j?.verdict === 'unjudged' && (probed || (e.probeAt !== undefined && now >= e.probeAt))) {
      // Only the next step: at that dial its traffic says whether it recovered.
      const why = `too little traffic to judge at dial ${dial} (${j.why}); probing at dial ${steps[0]}${probed ? '' : ' after the cool-down'}`;
      return {
        move: { kind: 'restore', region: e.region, steps: steps.slice(0, 1), why, probe: true },
        notes,
      };
    }
  }
  const limit = cfg.maxAutoEvacuated ?? snapshot.regions.size - 1;
  for (const [id, j] of judgement.regions) {
    if (j.verdict !== 'outlier' || entry(id)?.phase === 'evacuating' || input.failedOver.has(id) || alone(id))
      continue;
    const region = snapshot.regions.get(id);
    if (!region || region.health === 'DOWN' || region.health === 'PARTITIONED' || region.health === 'UNKNOWN')
      continue;
    const steps = cfg.steps.filter((d) => d < region.dial);
    if (steps.length === 0) continue;
    // The others must be healthy: they take its traffic, and the gates check every one of them.
    const unfit = [...snapshot.regions.values()].find(
      (o) => o.id !== id && o.health !== 'DOWN' && !entry(o.id) && !judgement.regions.get(o.id)?.healthy,
    );
    if (unfit) {
      const why = judgement.regions.get(unfit.id)?.why ?? 'no recent report';
      notes.push({
        region: id,
        decision: 'restrict',
        why: `${j.why}; not moved: ${unfit.id} is not healthy either (${why})`,
      });
      continue;
    }
    const counted = state.evacuated.filter((e) => e.region !== id).length;
    if (!entry(id) && counted >= limit) {
      notes.push({
        region: id,
        decision: 'restrict',
        why: `${j.why}; not moved: ${counted} region(s) already evacuated automatically (maxAutoEvacuated ${limit})`,
      });
      continue;
    }
    // Planned from the dial it had before any automatic move: the margin covers all it moved, once.
    const before = entry(id)?.fromDial ?? region.dial;
    const lowest = lowestDial(withDial(snapshot, id, before), id, steps.at(-1)!, cfg.margin);
    if (entry(id) && (lowest === null || lowest >= region.dial)) continue;
    if (lowest === null || lowest >= region.dial) {
      notes.push({
        region: id,
        decision: 'restrict',
        why: `${j.why}; not moved: the other regions have no headroom to take its traffic`,
      });
      continue;
    }
    const partial = lowest > steps.at(-1)!;
    const moveSteps = partial ? [...steps.filter((d) => d > lowest), lowest] : steps;
    if (partial)
      notes.push({
        region: id,
        decision: 'limit',
        why: `receivers' headroom allows dial ${lowest}, not ${steps.at(-1)}: moving only that much`,
      });
    return { move: { kind: 'redirect', region: id, steps: moveSteps, why: j.why, partial }, notes };
  }
  return { move: null, notes };
}

/**
 * The lowest dial between `target` and the region's dial that the others' headroom covers
 * (the evacuation pre-check, margin included); null when not even one point can move.
 */
export function lowestDial(
  snapshot: Snapshot,
  region: string,
  target: number,
  margin: number,
): number | null {
  const from = snapshot.regions.get(region)?.dial ?? 0;
  for (let d = target; d < from; d++) if (planMove(snapshot, region, [d], margin).ok) return d;
  return null;
}

/** The cool-down before probing an evacuated region that has no traffic to judge: doubled per failed probe, at most 16x. */
export const probeDelay = (probeAfterMs: number, probes: number) => probeAfterMs * 2 ** Math.min(probes, 4);
