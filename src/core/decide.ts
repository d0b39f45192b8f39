import { greatCircleKm } from './geo-distance.js';
import type { Candidate, Client, Decision, RegionState, Snapshot } from './model.js';
import { byDistanceFrom, isDown, type RegionSpill, spillPlan } from './spill-plan.js';
import { subnetHash } from './subnet-hash.js';

// The plan depends only on the snapshot, which is immutable: compute it once.
const plans = new WeakMap<Snapshot, Map<string, RegionSpill>>();
function planFor(snapshot: Snapshot): Map<string, RegionSpill> {
  let plan = plans.get(snapshot);
  if (!plan) {
    plan = spillPlan(snapshot);
    plans.set(snapshot, plan);
  }
  return plan;
}

interface Home {
  region: RegionState;
  reason: Decision['homeReason'];
  detail: string;
}

function findHome(client: Client, snapshot: Snapshot): Home | null {
  const { regions, policy } = snapshot;
  const loc = client.location;
  for (const code of [loc?.subdivision, loc?.country]) {
    const id = code ? policy.territories.get(code) : undefined;
    const region = id ? regions.get(id) : undefined;
    if (region) return { region, reason: 'territory', detail: `territory ${code} maps to ${region.id}` };
  }
  if (loc?.point && policy.fallback === 'nearest' && regions.size > 0) {
    const region = byDistanceFrom(loc.point, regions.values())[0];
    const km = Math.round(greatCircleKm(loc.point, region.location));
    return { region, reason: 'nearest', detail: `nearest region, ${km} km away` };
  }
  const region = regions.get(policy.defaultRegion) ?? [...regions.values()][0];
  if (!region) return null;
  return { region, reason: 'default', detail: loc ? 'no territory matches' : 'location unknown' };
}

/**
 * Where a client should go: ordered candidates with reasons, and the TTL.
 * Pure: the same client and snapshot always give the same answer.
 */
export function decide(client: Client, snapshot: Snapshot): Decision {
  const home = findHome(client, snapshot);
  const ttl = snapshot.policy.ttl;
  if (!home)
    return { candidates: [], home: '', homeReason: 'default', dependsOnClient: false, shed: false, ttl };

  const regions = snapshot.regions;
  const anyHealthy = [...regions.values()].some((r) => !isDown(r));
  const spill = planFor(snapshot).get(home.region.id)!;
  const u = subnetHash(client.subnet);
  const candidates: Candidate[] = [];
  let shed = false;

  if (u < spill.keep) {
    candidates.push({ region: home.region.id, reason: home.reason, detail: home.detail });
  } else {
    const why = isDown(home.region) ? 'health' : 'spill';
    const because =
      why === 'health'
        ? `home ${home.region.id} is DOWN`
        : `home ${home.region.id} keeps ${Math.round(spill.keep * 100)} % of its clients`;
    // Position of this network among the spilled ones, in [0, 1).
    let v = spill.keep < 1 ? (u - spill.keep) / (1 - spill.keep) : 0;
    const target = spill.targets.find((t) => {
      v -= t.fraction;
      return v < 0;
    });
    if (target) {
      candidates.push({
        region: target.region,
        reason: why,
        detail: `${because}; next region with headroom`,
      });
    } else if (snapshot.policy.overflow === 'overload' || isDown(home.region)) {
      const next = spill.targets[0]?.region ?? nearestUp(home.region, snapshot, anyHealthy);
      candidates.push({
        region: next,
        reason: 'overflow',
        detail: `${because}; no region has headroom, overload`,
      });
    } else {
      shed = true;
      candidates.push({
        region: home.region.id,
        reason: 'overflow',
        detail: `${because}; no headroom: shed`,
      });
    }
  }

  // The rest, nearest to the client first, are where to retry. DOWN regions only when nothing else is up.
  const from = client.location?.point ?? home.region.location;
  for (const r of byDistanceFrom(from, regions.values())) {
    if (candidates.some((c) => c.region === r.id)) continue;
    if (isDown(r) && anyHealthy) continue;
    candidates.push({ region: r.id, reason: 'fallback', detail: `fallback, ${r.health}` });
  }
  if (isDown(regions.get(candidates[0].region)!) && anyHealthy) {
    // Only possible through "shed" on a DOWN home; never answer DOWN while a region is up.
    candidates.shift();
  }
  const dependsOnClient = client.location !== null || spill.keep < 1;
  return { candidates, home: home.region.id, homeReason: home.reason, dependsOnClient, shed, ttl };
}

function nearestUp(home: RegionState, snapshot: Snapshot, anyHealthy: boolean): string {
  const others = byDistanceFrom(home.location, snapshot.regions.values()).filter((r) => r.id !== home.id);
  const up = others.find((r) => !isDown(r) || !anyHealthy);
  return (up ?? home).id;
}
