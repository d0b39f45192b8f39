import type { Health, Policy, RegionState, Snapshot } from '../core/model.js';
import type { MeridianConfig } from './schema/index.js';

export interface SnapshotOverrides {
  version?: number;
  health?: ReadonlyMap<string, Health>;
  dials?: ReadonlyMap<string, number>;
  load?: ReadonlyMap<string, number>;
  demand?: ReadonlyMap<string, number>;
}

export function policyFromConfig(config: MeridianConfig): Policy {
  const territories = new Map<string, string>();
  for (const t of config.steering.territories) for (const code of t.codes) territories.set(code, t.region);
  return {
    territories,
    defaultRegion: config.steering.default ?? config.regions[0].id,
    fallback: config.steering.fallback,
    overflow: config.steering.overflow,
    ttl: config.zone.ttl,
  };
}

/** The first snapshot a server can serve from config alone: everything healthy, dials as configured. */
export function snapshotFromConfig(config: MeridianConfig, overrides: SnapshotOverrides = {}): Snapshot {
  const regions = new Map<string, RegionState>();
  for (const r of config.regions) {
    regions.set(r.id, {
      id: r.id,
      name: r.name ?? r.id,
      location: r.location,
      capacity: r.capacity,
      load: overrides.load?.get(r.id) ?? 0,
      demand: overrides.demand?.get(r.id) ?? 0,
      health: overrides.health?.get(r.id) ?? r.health,
      dial: overrides.dials?.get(r.id) ?? r.dial,
    });
  }
  return { version: overrides.version ?? 1, regions, policy: policyFromConfig(config) };
}
