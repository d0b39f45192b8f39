// The model every part shares. Pure data: no I/O, no clock.

/**
 * UNKNOWN: no evidence yet (control has not heard from the region's edge since it
 * started). It keeps its dial and counts as serving; it is never a reason to move traffic.
 */
export const HEALTH_STATES = ['UNKNOWN', 'HEALTHY', 'DEGRADED', 'DOWN', 'PARTITIONED'] as const;
export type Health = (typeof HEALTH_STATES)[number];

export interface GeoPoint {
  lat: number;
  lon: number;
}

/** Where a client is, as far as the geo database knows. */
export interface ClientLocation {
  country?: string; // ISO 3166-1 alpha-2, e.g. "US"
  subdivision?: string; // ISO 3166-2, e.g. "US-CA"
  city?: string;
  point?: GeoPoint;
}

export interface Client {
  /** The network the client belongs to: "171.64.1.0/24" or "2001:db8:0:100::/56". */
  subnet: string;
  /** null when the address is private, reserved or unknown to the database. */
  location: ClientLocation | null;
}

export interface RegionState {
  id: string;
  name: string;
  location: GeoPoint;
  /** Requests per second the region can take. */
  capacity: number;
  /** Requests per second the region is serving now (reported by its edge). */
  load: number;
  /**
   * Requests per second from clients whose home is this region, whether this
   * region serves them or not. 0 when unknown; spill is then not capped.
   */
  demand: number;
  health: Health;
  /** 0-100: the share of its home clients the region keeps. */
  dial: number;
}

export type OverflowPolicy = 'shed' | 'overload';

export interface Policy {
  /** ISO 3166-2 subdivision ("US-CA") or ISO 3166-1 country ("FR") -> region id. */
  territories: ReadonlyMap<string, string>;
  /** Region for clients with no known location; nearest to nothing otherwise. */
  defaultRegion: string;
  /** When no territory matches: steer to the nearest region ("nearest") or to defaultRegion. */
  fallback: 'nearest' | 'default';
  overflow: OverflowPolicy;
  /** TTL in seconds of steered answers. */
  ttl: number;
}

export interface Snapshot {
  version: number;
  /**
   * The control store's generation: snapshots order by (epoch, version). A
   * new store, or `meridian control --new-epoch`, starts a higher one, so its
   * lower versions are not mistaken for old ones. Absent: 0.
   */
  epoch?: number;
  regions: ReadonlyMap<string, RegionState>;
  policy: Policy;
}

export type Reason = 'territory' | 'nearest' | 'default' | 'spill' | 'health' | 'overflow' | 'fallback';

export interface Candidate {
  region: string;
  reason: Reason;
  /** One sentence a person can read: why this region is in this place. */
  detail: string;
}

export interface Decision {
  /** Ordered: the first is the answer, the rest are where to retry. Never empty when regions exist. */
  candidates: Candidate[];
  /** The region the client belongs to before health and dials are applied. */
  home: string;
  /** How the home region was found. */
  homeReason: 'territory' | 'nearest' | 'default';
  /** True when the decision depends on the client's network (dial spill hashing or location). */
  dependsOnClient: boolean;
  /** True when no region had headroom and the overflow policy is "shed". */
  shed: boolean;
  ttl: number;
}
