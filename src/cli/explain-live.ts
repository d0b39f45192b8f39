import type { Health } from '../core/model.js';
import type { Status } from './status.js';

const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

/**
 * `meridian explain --control`: the health and dials control has now, and why a region's dial is
 * what it is when control moved it by itself (an outlier evacuation, the global hold).
 */
export function liveState(s: Status): {
  health: Map<string, Health>;
  dials: Map<string, number>;
  notes: string[];
} {
  const health = new Map(s.regions.map((r) => [r.id, r.health as Health]));
  const dials = new Map(s.regions.map((r) => [r.id, r.dial]));
  const notes: string[] = [];
  for (const r of s.regions) if (r.health !== 'HEALTHY') notes.push(`${r.id} is ${r.health}: ${r.why}`);
  const o = s.outlier;
  if (o?.global)
    notes.push(
      `every dial held since ${clock(o.global.at)}: ${o.global.why} (global: moving traffic would spread the fault, not contain it)`,
    );
  for (const e of o?.evacuated ?? []) {
    const how = e.phase === 'restoring' ? 'being restored' : e.phase;
    notes.push(
      `${e.region} dial ${dials.get(e.region)}: evacuated automatically as an outlier at ${clock(e.at)}: ${e.why} (${how}; it comes back by itself once it recovers)`,
    );
  }
  for (const j of o?.regions ?? []) {
    if (j.verdict !== 'outlier' || o?.evacuated.some((e) => e.region === j.region)) continue;
    const held = [...(o?.decisions ?? [])]
      .reverse()
      .find((d) => d.region === j.region && d.decision === 'restrict');
    notes.push(`${j.region} is an outlier (${j.why}) but was not moved${held ? `: ${held.why}` : ''}`);
  }
  return { health, dials, notes };
}
