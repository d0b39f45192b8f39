import { z } from 'zod';
import { cidr, regionId } from './common.js';

/** ISO 3166-1 alpha-2 country ("FR") or ISO 3166-2 subdivision ("US-CA"). */
export const territoryCode = z
  .string()
  .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'expected an ISO 3166 code such as "FR" or "US-CA"');

/** What a steered A/AAAA answer lists: `home` (one region) or `home+fallback` (that region, then the next usable one). */
export const answerPolicy = z.enum(['home', 'home+fallback']);

export const steeringSchema = z.strictObject({
  territories: z
    .array(z.strictObject({ region: regionId, codes: z.array(territoryCode).min(1) }))
    .default([]),
  /** Clients outside every territory: to the nearest region, or to `default`. */
  fallback: z.enum(['nearest', 'default']).default('nearest'),
  /** Region for clients whose location is unknown (private or unlisted addresses). */
  default: regionId.optional(),
  /** When no region has headroom for spilled clients: shed them at the edge, or overload. */
  overflow: z.enum(['shed', 'overload']).default('shed'),
  /**
   * What a service's A/AAAA answer lists (meridian dns): `home`, the chosen region's addresses; or
   * `home+fallback`, those first and then the next healthy candidate's, for clients whose cached
   * answer outlives the chosen region's front door. Resolvers may reorder the set (see src/dns/README.md).
   * A service may choose its own (`services[].answers`).
   */
  answers: answerPolicy.default('home'),
});

export const trustSchema = z.strictObject({
  /** Peers allowed to state the client address in a header. */
  proxies: z.array(cidr).default([]),
  header: z.string().toLowerCase().default('x-forwarded-for'),
});

export const geoSchema = z.strictObject({
  /** A MaxMind-format database (GeoLite2, IPinfo, DB-IP); default: DB-IP City Lite shipped with Meridian. */
  database: z.string().optional(),
  /** A second file for IPv6 when the database is split by family (as DB-IP Lite is). */
  databaseIpv6: z.string().optional(),
  cacheSize: z.number().int().min(0).default(100_000),
});

export type SteeringConfig = z.output<typeof steeringSchema>;
export type TrustConfig = z.output<typeof trustSchema>;
export type GeoConfig = z.output<typeof geoSchema>;
