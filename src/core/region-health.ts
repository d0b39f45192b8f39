// Region-health state machine. Pure: every observation carries its time and
// `now` is an argument. A region is DOWN only when independent vantage points
// agree; one observer that lost its link never evacuates a healthy region.
// A region starts UNKNOWN and stays so until its own edge first reports (or the
// witness and the other regions agree it is DOWN or PARTITIONED): before that, a
// missing report or a failed witness probe cannot tell "not started yet" from
// "broken", so it is never read as DEGRADED.
import type { Health } from './model.js';

export interface HealthThresholds {
  /** A worse verdict must hold this long before it is declared. */
  fallAfterMs: number;
  /** A better verdict must hold this long before it is declared. */
  riseAfterMs: number;
  /** Observations older than this are ignored. */
  staleAfterMs: number;
  degradedErrorRate: number;
  degradedP99Ms: number;
}

/** What a region's own edge last reported (kept when stale: that it ever reported is evidence). */
export interface EdgeView {
  at: number;
  originsTotal: number;
  originsHealthy: number;
  errorRate: number;
  p99Ms: number;
  /** Other regions' edges this edge could reach. */
  peers: ReadonlyMap<string, boolean>;
}

/** Control's own probe of a region's edge. */
export interface WitnessView {
  at: number;
  reachable: boolean;
}

export interface Vantage {
  reports: ReadonlyMap<string, EdgeView>;
  witness: ReadonlyMap<string, WitnessView>;
}

export interface Verdict {
  health: Health;
  why: string;
}

export interface HealthTrack {
  health: Health;
  why: string;
  since: number;
  /** A different verdict waiting for its hysteresis time. */
  pending?: { health: Health; why: string; since: number };
}

const SEVERITY: Record<Health, number> = { UNKNOWN: 0, HEALTHY: 0, DEGRADED: 1, PARTITIONED: 2, DOWN: 3 };

/** Why a region is UNKNOWN. */
export const NO_EVIDENCE = "no evidence yet: waiting for its edge's first report";

/** Where every region starts. */
export const unknownTrack = (now: number): HealthTrack => ({
  health: 'UNKNOWN',
  why: NO_EVIDENCE,
  since: now,
});

/** The raw verdict for one region from what every vantage point sees now. */
export function observeRegion(id: string, v: Vantage, now: number, t: HealthThresholds): Verdict {
  const fresh = (at: number) => now - at <= t.staleAfterMs;
  const ownReport = v.reports.get(id);
  const own = ownReport && fresh(ownReport.at) ? ownReport : undefined;
  const witnessSeen = v.witness.get(id);
  const witness = witnessSeen && fresh(witnessSeen.at) ? witnessSeen : undefined;
  const peerViews: boolean[] = [];
  for (const [other, r] of v.reports) {
    if (other === id || !fresh(r.at)) continue;
    const seen = r.peers.get(id);
    if (seen !== undefined) peerViews.push(seen);
  }
  const othersCannotReach = peerViews.length > 0 && peerViews.every((ok) => !ok);
  const witnessCannotReach = witness !== undefined && !witness.reachable;

  if (own && own.originsTotal > 0 && own.originsHealthy === 0)
    return { health: 'DOWN', why: `its own edge sees all ${own.originsTotal} origins failing` };
  if (othersCannotReach && witnessCannotReach)
    return { health: 'DOWN', why: 'neither the other regions nor the witness can reach its edge' };
  if (othersCannotReach && witness?.reachable)
    return { health: 'PARTITIONED', why: 'the other regions cannot reach it but the witness can' };
  if (!v.reports.has(id))
    return {
      health: 'UNKNOWN',
      why: witnessCannotReach
        ? 'no report from its edge yet, and the witness cannot reach it (yet)'
        : NO_EVIDENCE,
    };
  if (witnessCannotReach) return { health: 'DEGRADED', why: 'the witness cannot reach its edge' };
  if (!own) return { health: 'DEGRADED', why: 'no recent report from its edge' };
  if (own.originsHealthy < own.originsTotal)
    return { health: 'DEGRADED', why: `${own.originsHealthy}/${own.originsTotal} origins healthy` };
  if (own.errorRate > t.degradedErrorRate)
    return { health: 'DEGRADED', why: `error rate ${(own.errorRate * 100).toFixed(1)} %` };
  if (own.p99Ms > t.degradedP99Ms) return { health: 'DEGRADED', why: `p99 ${Math.round(own.p99Ms)} ms` };
  return { health: 'HEALTHY', why: 'reports and witness agree it is serving' };
}

/**
 * Hysteresis: a verdict becomes the state only after it held fallAfter (worse) or riseAfter (better).
 * Out of UNKNOWN, HEALTHY is declared at once (there is nothing to flap from) and worse states
 * after fallAfter, as from HEALTHY. A region never goes back to UNKNOWN: once known, no evidence
 * is itself a finding (DEGRADED: no recent report).
 */
export function stepHealth(
  track: HealthTrack,
  observed: Verdict,
  now: number,
  t: HealthThresholds,
): HealthTrack {
  const verdict: Verdict =
    observed.health === 'UNKNOWN' && track.health !== 'UNKNOWN'
      ? { health: 'DEGRADED', why: `no recent report from its edge (${observed.why})` }
      : observed;
  if (track.health === 'UNKNOWN' && verdict.health === 'HEALTHY')
    return { health: 'HEALTHY', why: verdict.why, since: now };
  if (verdict.health === track.health) return { health: track.health, why: verdict.why, since: track.since };
  const pending =
    track.pending?.health === verdict.health
      ? { ...track.pending, why: verdict.why }
      : { health: verdict.health, why: verdict.why, since: now };
  const worse = SEVERITY[verdict.health] > SEVERITY[track.health];
  const hold = worse ? t.fallAfterMs : t.riseAfterMs;
  if (now - pending.since >= hold) return { health: verdict.health, why: verdict.why, since: now };
  return { ...track, pending };
}

/**
 * Steps every region. The last region that is not DOWN is never declared
 * DOWN: evacuating it would leave nobody to serve.
 */
export function evaluateRegions(
  tracks: ReadonlyMap<string, HealthTrack>,
  regionIds: readonly string[],
  vantage: Vantage,
  now: number,
  t: HealthThresholds,
): Map<string, HealthTrack> {
  const next = new Map<string, HealthTrack>();
  const ids = [...regionIds].sort();
  for (const id of ids) {
    const track = tracks.get(id) ?? unknownTrack(now);
    next.set(id, stepHealth(track, observeRegion(id, vantage, now, t), now, t));
  }
  for (const id of ids) {
    const track = next.get(id)!;
    if (track.health !== 'DOWN' || tracks.get(id)?.health === 'DOWN') continue;
    const othersUp = ids.some((o) => o !== id && next.get(o)!.health !== 'DOWN');
    if (!othersUp) {
      const previous = tracks.get(id)?.health ?? 'UNKNOWN';
      next.set(id, {
        health: previous === 'DOWN' ? 'DEGRADED' : previous,
        why: `${track.why}; kept up: it is the last region not DOWN`,
        since: track.since,
      });
    }
  }
  return next;
}
