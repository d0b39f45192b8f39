import type { CanarySample } from '../../core/canary.js';
import type { EdgeReport } from '../../feed/report.js';

/**
 * Per-region origin error rate and p99 from every edge report (about one a second
 * per edge), kept for a while so a judgement can take the canary region's
 * window and the baseline regions' same window. Bounded per region; regions
 * are only the configured ones (the report route refuses unknown regions).
 */
export class RolloutSamples {
  private readonly rings = new Map<string, CanarySample[]>();

  constructor(
    private readonly keepMs = 15 * 60_000,
    private readonly maxPerRegion = 5000,
  ) {}

  accept(report: EdgeReport, now: number) {
    const ring = this.rings.get(report.region) ?? [];
    this.rings.set(report.region, ring);
    ring.push({
      at: now,
      // What the region's own origins did, before the edge retried failures elsewhere (older edges: what users saw).
      errorRate: report.originErrorRate ?? report.errorRate,
      p99Ms: report.originP99Ms ?? report.p99Ms,
      requestsPerS: report.originRequestsPerS ?? report.requestsPerS,
    });
    let drop = 0;
    while (
      drop < ring.length &&
      (now - ring[drop].at > this.keepMs || ring.length - drop > this.maxPerRegion)
    )
      drop++;
    if (drop > 0) ring.splice(0, drop);
  }

  all(): ReadonlyMap<string, readonly CanarySample[]> {
    return this.rings;
  }
}
