// The summary's release fields (issue 14): what control's rollout and outlier
// detector did, the lab's deploys, and the versions users were served.
import type { OutlierSummary, RolloutSummary, Summary } from '../chaos/drills/types.js';
import type { HealthChange } from './probes.js';
import type { Bucket } from './recorder.js';
import type { ReleaseObservations, RolloutSeen } from './release-watch.js';

export function rolloutSummary(r: RolloutSeen | null | undefined): RolloutSummary | null {
  if (!r) return null;
  return {
    id: r.id,
    version: r.version,
    result: r.status,
    regionsReached: [...(r.regionsReached ?? [])],
    judgements: (r.judgements ?? []).map((j) => ({
      at: j.at,
      region: j.region,
      dial: j.dial,
      pass: j.pass,
      why: j.why,
    })),
    message: r.message ?? '',
  };
}

export interface DeploySeen {
  t: number;
  region: string;
  version: string;
  by: string;
  phase: string;
}

/**
 * ms from the last finished deploy to an evacuated region (the fix) until its
 * dial was back to full for good (the first full dial after its last dial below
 * full; 0 when that came while the fix was still deploying); the longest over
 * the evacuated regions, null when one was not back (or no fix was deployed,
 * or none was evacuated).
 */
export function restoredAfterMs(
  evacuated: readonly string[],
  deploys: readonly DeploySeen[],
  changes: readonly HealthChange[],
  fullDial: (region: string) => number,
): number | null {
  if (evacuated.length === 0) return null;
  let longest = 0;
  for (const region of evacuated) {
    const fix = deploys.filter((d) => d.region === region && d.phase === 'done').at(-1);
    const fixStart = deploys.filter((d) => d.region === region && d.phase === 'start').at(-1);
    if (!fix || !fixStart) return null;
    const own = [...changes].filter((c) => c.region === region).sort((a, b) => a.t - b.t);
    let lastLow = -1;
    own.forEach((c, i) => {
      if (c.dial < fullDial(region)) lastLow = i;
    });
    const back = own.slice(lastLow + 1).find((c) => c.dial >= fullDial(region));
    if (!back || back.t < fixStart.t) return null;
    longest = Math.max(longest, back.t - fix.t);
  }
  return Math.round(longest);
}

export function outlierSummary(
  seen: ReleaseObservations | undefined,
  deploys: readonly DeploySeen[],
  changes: readonly HealthChange[],
  fullDial: (region: string) => number,
): OutlierSummary | null {
  if (!seen) return null;
  const evacuated = [...seen.evacuated.keys()];
  const dialsMovedAtMs: Record<string, number> = {};
  for (const c of changes)
    if (c.dial < fullDial(c.region) && !(c.region in dialsMovedAtMs))
      dialsMovedAtMs[c.region] = Math.round(c.t);
  return {
    evacuated,
    dialsMoved: Object.keys(dialsMovedAtMs),
    evacuatedAtMs: Object.fromEntries([...seen.evacuated].map(([r, t]) => [r, Math.round(t)])),
    dialsMovedAtMs,
    restoredAfterMs: restoredAfterMs(evacuated, deploys, changes, fullDial),
    globalAt: seen.globalAt === null ? null : Math.round(seen.globalAt),
    globalWhy: seen.globalWhy,
    decisions: seen.decisions.slice(-40),
  };
}

/** Per region, each second whose set of served versions differs from the second before. */
export function servedVersions(
  buckets: readonly Bucket[],
  regions: readonly string[],
): Summary['versions']['served'] {
  const out: Summary['versions']['served'] = {};
  for (const region of regions) {
    const changes: { t: number; versions: string[] }[] = [];
    for (const b of buckets) {
      const versions = [...(b.versions.get(region)?.keys() ?? [])].sort();
      if (versions.length === 0) continue;
      if (changes.at(-1)?.versions.join() !== versions.join()) changes.push({ t: b.second * 1000, versions });
    }
    out[region] = changes;
  }
  return out;
}
