// A request the edge sheds is a failed request to the user. Only where the lab
// asks more of the regions left serving than they are configured to carry is
// shedding expected, and then only the excess.
import { type Check, check, type Overload, type Summary } from './types.js';

/** A region out of service (killed, or evacuated to dial 0) from `fromMs` to `toMs` of the run. */
export interface Outage {
  region: string;
  fromMs: number;
  toMs: number;
}

/** How much of the lab's load the surviving regions cannot carry, over the whole run. */
export function expectedOverload(
  rate: number,
  capacities: ReadonlyMap<string, number>,
  outages: readonly Outage[],
  durationMs: number,
): Overload | undefined {
  const cuts = [...new Set([0, durationMs, ...outages.flatMap((o) => [o.fromMs, o.toMs])])]
    .filter((t) => t >= 0 && t <= durationMs)
    .sort((a, b) => a - b);
  let excessMs = 0;
  let worst: { capacity: number; lost: string[] } | null = null;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const mid = (cuts[i] + cuts[i + 1]) / 2;
    const lost = new Set(outages.filter((o) => o.fromMs <= mid && mid < o.toMs).map((o) => o.region));
    let capacity = 0;
    for (const [region, c] of capacities) if (!lost.has(region)) capacity += c;
    if (capacity >= rate) continue;
    excessMs += ((rate - capacity) / rate) * (cuts[i + 1] - cuts[i]);
    if (worst === null || capacity < worst.capacity) worst = { capacity, lost: [...lost].sort() };
  }
  if (worst === null || durationMs <= 0) return undefined;
  return {
    rate,
    survivingCapacity: worst.capacity,
    lostRegions: worst.lost,
    expectedShedShare: Math.round((excessMs / durationMs) * 10_000) / 10_000,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The summary's sentence for an overloaded lab. */
export const overloadNote = (o: Overload) =>
  `the lab's ${o.rate} req/s exceed the ${o.survivingCapacity} req/s the regions left serving are configured to carry ` +
  `while ${o.lostRegions.join(', ') || 'nothing'} is out: about ${pct(o.expectedShedShare)} of all requests are expected to be shed`;

/** Shed points of the run allowed over the expected share: the edges shed in bursts, not exactly the excess. */
const SHED_TOLERANCE = 0.02;

/**
 * Users notice nothing: no idempotent request failed and none was shed (of any
 * method: a shed request is a failed one to its user), unless the load exceeded
 * what the surviving regions carry; then at most the excess is shed.
 */
export function noFailedOrShed(s: Summary): Check {
  const { failedIdempotent, shed, total } = s.requests;
  const counts = `${failedIdempotent} failed idempotent, ${shed} shed of ${total}`;
  const expected = s.overload?.expectedShedShare ?? 0;
  if (expected === 0) {
    return check(
      'no failed idempotent request, no shed request',
      failedIdempotent === 0 && shed === 0,
      counts,
    );
  }
  const share = total === 0 ? 0 : shed / total;
  return check(
    `no failed idempotent request; shed at most the expected ${pct(expected)} (+${SHED_TOLERANCE * 100} points): ` +
      'the load exceeds what the surviving regions carry',
    failedIdempotent === 0 && share <= expected + SHED_TOLERANCE,
    `${counts} (${pct(share)})`,
  );
}
