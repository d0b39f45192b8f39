// Where each place's users are steered: the home region (territory, nearest or
// default, as decide() finds it) split by that region's dial and spill plan.

import type { Snapshot } from '../../src/core/model.js';
import { byDistanceFrom, spillPlan } from '../../src/core/spill-plan.js';

export interface Split {
  home: string;
  reason: 'territory' | 'nearest' | 'default';
  /** Fractions of the place's users per region, largest first; may add up to less than 1 (shed). */
  shares: { region: string; fraction: number }[];
}

/** us-atlas state ids (FIPS) to postal codes, for "US-CA"-style territories. */
const FIPS =
  '01AL02AK04AZ05AR06CA08CO09CT10DE11DC12FL13GA15HI16ID17IL18IN19IA20KS21KY22LA23ME24MD25MA26MI27MN28MS29MO30MT31NE32NV33NH34NJ35NM36NY37NC38ND39OH40OK41OR42PA44RI45SC46SD47TN48TX49UT50VT51VA53WA54WV55WI56WY60AS66GU69MP72PR78VI';
const POSTAL = new Map<string, string>();
for (let i = 0; i < FIPS.length; i += 4) POSTAL.set(FIPS.slice(i, i + 2), FIPS.slice(i + 2, i + 4));

export const stateCode = (fips: string | number | undefined) => {
  const p = POSTAL.get(String(fips ?? '').padStart(2, '0'));
  return p ? `US-${p}` : undefined;
};

export class Steering {
  private readonly plan;

  constructor(private readonly snapshot: Snapshot) {
    this.plan = spillPlan(snapshot);
  }

  /** codes: most specific first ("US-CA", "US"); point: [lon, lat] of the place. */
  split(codes: (string | undefined)[], point: [number, number] | null): Split | null {
    const { regions, policy } = this.snapshot;
    let home: string | undefined;
    let reason: Split['reason'] = 'default';
    for (const code of codes) {
      const id = code ? policy.territories.get(code) : undefined;
      if (id && regions.has(id)) {
        home = id;
        reason = 'territory';
        break;
      }
    }
    if (!home && point && policy.fallback === 'nearest' && regions.size > 0) {
      home = byDistanceFrom({ lon: point[0], lat: point[1] }, regions.values())[0].id;
      reason = 'nearest';
    }
    if (!home) home = regions.has(policy.defaultRegion) ? policy.defaultRegion : [...regions.keys()][0];
    if (!home) return null;
    const spill = this.plan.get(home);
    if (!spill) return { home, reason, shares: [{ region: home, fraction: 1 }] };
    const shares = [{ region: home, fraction: spill.keep }];
    for (const t of spill.targets) shares.push({ region: t.region, fraction: (1 - spill.keep) * t.fraction });
    return {
      home,
      reason,
      shares: shares.filter((s) => s.fraction > 0.001).sort((a, b) => b.fraction - a.fraction),
    };
  }
}
