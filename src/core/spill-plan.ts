import { greatCircleKm } from './geo-distance.js';
import type { RegionState, Snapshot } from './model.js';

/** One target that takes part of a region's spilled clients. */
export interface SpillShare {
  region: string;
  /** Fraction of the source region's spilled clients this target takes (0-1). */
  fraction: number;
}

export interface RegionSpill {
  /** Effective dial 0-1: a DOWN region keeps nobody. */
  keep: number;
  /** Targets in order; fractions add up to at most 1. The rest overflows. */
  targets: SpillShare[];
}

export const isDown = (r: RegionState) => r.health === 'DOWN';

/** Regions ordered by distance from `from`, nearest first, ties broken by id. */
export function byDistanceFrom(
  from: { lat: number; lon: number },
  regions: Iterable<RegionState>,
): RegionState[] {
  return [...regions]
    .map((r) => ({ r, d: greatCircleKm(from, r.location) }))
    .sort((a, b) => a.d - b.d || (a.r.id < b.r.id ? -1 : a.r.id > b.r.id ? 1 : 0))
    .map((x) => x.r);
}

export function effectiveKeep(region: RegionState, anyHealthy: boolean): number {
  if (isDown(region) && anyHealthy) return 0;
  return Math.max(0, Math.min(100, region.dial)) / 100;
}

/**
 * Where each region's spilled clients go, given capacity. Sources are visited
 * in id order so the plan is the same on every server for the same snapshot.
 * Headroom of a target is its capacity minus the home load it keeps itself.
 */
export function spillPlan(snapshot: Snapshot): Map<string, RegionSpill> {
  const regions = [...snapshot.regions.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const anyHealthy = regions.some((r) => !isDown(r));
  const headroom = new Map<string, number>();
  for (const r of regions) {
    const kept = r.demand * effectiveKeep(r, anyHealthy);
    headroom.set(r.id, isDown(r) ? 0 : Math.max(0, r.capacity - kept));
  }
  const plan = new Map<string, RegionSpill>();
  for (const source of regions) {
    const keep = effectiveKeep(source, anyHealthy);
    const targets: SpillShare[] = [];
    const spillDemand = source.demand * (1 - keep);
    let left = 1;
    for (const target of byDistanceFrom(source.location, regions)) {
      if (target.id === source.id || isDown(target) || left <= 0) continue;
      const room = headroom.get(target.id)!;
      // Unknown demand (0) means nothing to cap: the nearest target takes all.
      const fraction = spillDemand <= 0 ? left : Math.min(left, room / spillDemand);
      if (fraction <= 0) continue;
      targets.push({ region: target.id, fraction });
      headroom.set(target.id, room - fraction * spillDemand);
      left -= fraction;
    }
    plan.set(source.id, { keep, targets });
  }
  return plan;
}
