// The data side of moving traffic: may traffic move to a region whose copy of
// the data is this far behind? Pure; control calls it with the replication
// lag each edge reported (EdgeReport.replicationLagMs).

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

export interface RegionLag {
  region: string;
  /** null when no edge of the region reported a lag. */
  lagMs: number | null;
  ok: boolean;
  reason: string;
}

/** The RPO check for every receiving region: what a pre-check shows and refuses on. */
export function checkRpoAll(
  receivers: readonly string[],
  lags: ReadonlyMap<string, number | null | undefined>,
  rpoMs: number,
  requireKnown = false,
): { ok: boolean; rpoMs: number; regions: RegionLag[] } {
  const regions = receivers.map((region) => {
    const lag = lags.get(region);
    const known = lag !== null && lag !== undefined && Number.isFinite(lag);
    return { region, lagMs: known ? Math.round(lag) : null, ...checkRpo(region, lag, rpoMs, requireKnown) };
  });
  return { ok: regions.every((r) => r.ok), rpoMs, regions };
}
