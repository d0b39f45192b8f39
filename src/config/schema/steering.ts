import { z } from 'zod';
import { cidr, regionId } from './common.js';

export const territoryCode = z
  .string()
  .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'expected an ISO 3166 code such as "FR" or "US-CA"')
  .describe('ISO 3166-1 alpha-2 country ("FR") or ISO 3166-2 subdivision ("US-CA").');

export const answerPolicy = z
  .enum(['home', 'home+fallback'])
  .describe(
    'What a steered A/AAAA answer lists: `home` (one region) or `home+fallback` (that region, then the next usable one).',
  );

export const steeringSchema = z.strictObject({
  territories: z
    .array(
      z.strictObject({
        region: regionId.describe('Home region (an id from `regions`) of clients in these territories.'),
        codes: z
          .array(territoryCode)
          .min(1)
          .describe('Countries and subdivisions; each code in one territory only.'),
      }),
    )
    .default([])
    .describe('Which region is home to which countries and subdivisions.'),
  fallback: z
    .enum(['nearest', 'default'])
    .default('nearest')
    .describe('Clients outside every territory: to the nearest region, or to `default`.'),
  default: regionId
    .optional()
    .describe('Region for clients whose location is unknown (private or unlisted addresses).'),
  overflow: z
    .enum(['shed', 'overload'])
    .default('shed')
    .describe('When no region has headroom for spilled clients: shed them at the edge, or overload.'),
  answers: answerPolicy
    .default('home')
    .describe(
      "What a service's A/AAAA answer lists (meridian dns): `home`, the chosen region's addresses; or `home+fallback`, those first and then the next healthy candidate's, for clients whose cached answer outlives the chosen region's front door. Resolvers may reorder the set (see src/dns/README.md). A service may choose its own (`services[].answers`).",
    ),
});

export const trustSchema = z.strictObject({
  proxies: z.array(cidr).default([]).describe('Peers allowed to state the client address in a header.'),
  header: z
    .string()
    .toLowerCase()
    .default('x-forwarded-for')
    .describe('Header in which those proxies state the client address.'),
});

export const geoSchema = z.strictObject({
  database: z
    .string()
    .optional()
    .describe(
      'A MaxMind-format database (GeoLite2, IPinfo, DB-IP); default: DB-IP City Lite shipped with Meridian.',
    ),
  databaseIpv6: z
    .string()
    .optional()
    .describe('A second file for IPv6 when the database is split by family (as DB-IP Lite is).'),
  cacheSize: z
    .number()
    .int()
    .min(0)
    .default(100_000)
    .describe('Addresses whose location is kept in memory after a lookup; 0: no cache.'),
});

export type SteeringConfig = z.output<typeof steeringSchema>;
export type TrustConfig = z.output<typeof trustSchema>;
export type GeoConfig = z.output<typeof geoSchema>;
