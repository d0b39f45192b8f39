// The data side of an evacuation pre-check: may traffic move to a region
// whose copy of the data is this far behind? Pure, so control can call it
// with the lag an edge reported (EdgeReport.replicationLagMs).

export interface RpoCheck {
  ok: boolean;
  reason: string;
}

/**
 * ok when the receiving region's replication lag is known and within the
 * recovery-point objective. An unknown lag (no probe, no report yet) is not
 * ok when `requireKnown`, so a region without replication can still be
 * allowed by passing false.
 */
export function checkRpo(
  receivingRegion: string,
  lagMs: number | null | undefined,
  rpoMs: number,
  requireKnown = false,
): RpoCheck {
  if (lagMs === null || lagMs === undefined || !Number.isFinite(lagMs)) {
    return requireKnown
      ? { ok: false, reason: `replication lag of ${receivingRegion} is unknown` }
      : { ok: true, reason: `replication lag of ${receivingRegion} is unknown; not checked` };
  }
  if (lagMs > rpoMs) {
    return {
      ok: false,
      reason: `replication lag of ${receivingRegion} is ${Math.round(lagMs)} ms, above the RPO of ${rpoMs} ms`,
    };
  }
  return {
    ok: true,
    reason: `replication lag of ${receivingRegion} is ${Math.round(lagMs)} ms (RPO ${rpoMs} ms)`,
  };
}
