// Snapshots for core tests: two US regions as in examples/two-regions.yaml.
import type { Client, Policy, RegionState, Snapshot } from './model.js';

export function region(id: string, lat: number, lon: number, extra: Partial<RegionState> = {}): RegionState {
  return {
    id,
    name: id,
    location: { lat, lon },
    capacity: 1000,
    load: 0,
    demand: 0,
    health: 'HEALTHY',
    dial: 100,
    ...extra,
  };
}

export function snapshot(regions: RegionState[], policy: Partial<Policy> = {}): Snapshot {
  return {
    version: 1,
    regions: new Map(regions.map((r) => [r.id, r])),
    policy: {
      territories: new Map([
        ['US-CA', 'us-west-2'],
        ['US-WA', 'us-west-2'],
        ['US-NY', 'us-east-1'],
        ['US-VA', 'us-east-1'],
      ]),
      defaultRegion: 'us-east-1',
      fallback: 'nearest',
      overflow: 'shed',
      ttl: 30,
      ...policy,
    },
  };
}

export const east = (extra: Partial<RegionState> = {}) => region('us-east-1', 38.9, -77.4, extra);
export const west = (extra: Partial<RegionState> = {}) => region('us-west-2', 45.6, -121.2, extra);
export const twoRegions = (e: Partial<RegionState> = {}, w: Partial<RegionState> = {}) =>
  snapshot([east(e), west(w)]);

export const newYork: Client = {
  subnet: '128.59.1.0/24',
  location: { country: 'US', subdivision: 'US-NY', point: { lat: 40.8, lon: -73.96 } },
};
export const stanford: Client = {
  subnet: '171.64.1.0/24',
  location: { country: 'US', subdivision: 'US-CA', point: { lat: 37.43, lon: -122.18 } },
};
export const sydney: Client = {
  subnet: '1.1.1.0/24',
  location: { country: 'AU', subdivision: 'AU-NSW', point: { lat: -33.87, lon: 151.21 } },
};
export const unknown: Client = { subnet: '10.0.0.0/24', location: null };
