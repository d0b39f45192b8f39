import { z } from 'zod';
import { duration, hostname, ipv4, ipv6 } from './common.js';

const staticRecord = z.discriminatedUnion('type', [
  z.strictObject({
    name: z.string(),
    type: z.literal('A'),
    ttl: z.number().int().min(0).optional(),
    values: z.array(ipv4).min(1),
  }),
  z.strictObject({
    name: z.string(),
    type: z.literal('AAAA'),
    ttl: z.number().int().min(0).optional(),
    values: z.array(ipv6).min(1),
  }),
  z.strictObject({
    name: z.string(),
    type: z.literal('CNAME'),
    ttl: z.number().int().min(0).optional(),
    values: z.array(hostname).length(1),
  }),
  z.strictObject({
    name: z.string(),
    type: z.literal('TXT'),
    ttl: z.number().int().min(0).optional(),
    values: z.array(z.string().max(255)).min(1),
  }),
  z.strictObject({
    name: z.string(),
    type: z.literal('MX'),
    ttl: z.number().int().min(0).optional(),
    values: z
      .array(z.strictObject({ preference: z.number().int().min(0).max(65535), exchange: hostname }))
      .min(1),
  }),
]);

export const zoneSchema = z.strictObject({
  /** The zone Meridian's DNS server is authoritative for. */
  name: hostname,
  /** TTL in seconds of steered answers: short, so that moves take effect fast. */
  ttl: z.number().int().min(0).max(86400).default(30),
  /** TTL in seconds of static records, SOA and NS. */
  staticTtl: z.number().int().min(0).default(300),
  soa: z
    .strictObject({
      mname: hostname.optional(),
      rname: hostname.default('hostmaster'),
      refresh: z.number().int().min(0).default(3600),
      retry: z.number().int().min(0).default(600),
      expire: z.number().int().min(0).default(604800),
      /** Negative-answer TTL (RFC 2308). */
      minimum: z.number().int().min(0).default(60),
    })
    .prefault({}),
  nameservers: z
    .array(
      z.strictObject({ name: hostname, ipv4: z.array(ipv4).default([]), ipv6: z.array(ipv6).default([]) }),
    )
    .default([]),
  records: z.array(staticRecord).default([]),
  /** How often a running server re-reads the config file for changes. */
  reloadInterval: duration.default(500),
});

export type ZoneConfig = z.output<typeof zoneSchema>;
export type StaticRecord = z.output<typeof staticRecord>;
