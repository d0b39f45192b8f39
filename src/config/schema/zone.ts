import { z } from 'zod';
import { duration, hostname, ipv4, ipv6 } from './common.js';

const recordName = z
  .string()
  .describe(
    "Owner name: '@' is the apex, a name inside the zone is absolute, anything else is relative to the zone.",
  );
const recordTtl = z.number().int().min(0).optional().describe('TTL in seconds; default `zone.staticTtl`.');
const recordType = <T extends 'A' | 'AAAA' | 'CNAME' | 'TXT' | 'MX'>(type: T) =>
  z.literal(type).describe('Record type.');

const staticRecord = z.discriminatedUnion('type', [
  z.strictObject({
    name: recordName,
    type: recordType('A'),
    ttl: recordTtl,
    values: z.array(ipv4).min(1).describe('IPv4 addresses.'),
  }),
  z.strictObject({
    name: recordName,
    type: recordType('AAAA'),
    ttl: recordTtl,
    values: z.array(ipv6).min(1).describe('IPv6 addresses.'),
  }),
  z.strictObject({
    name: recordName,
    type: recordType('CNAME'),
    ttl: recordTtl,
    values: z.array(hostname).length(1).describe('The one target name.'),
  }),
  z.strictObject({
    name: recordName,
    type: recordType('TXT'),
    ttl: recordTtl,
    values: z.array(z.string().max(255)).min(1).describe('Strings of at most 255 characters each.'),
  }),
  z.strictObject({
    name: recordName,
    type: recordType('MX'),
    ttl: recordTtl,
    values: z
      .array(
        z.strictObject({
          preference: z.number().int().min(0).max(65535).describe('Lower is preferred.'),
          exchange: hostname.describe('The mail server.'),
        }),
      )
      .min(1)
      .describe('Mail exchangers.'),
  }),
]);

export const zoneSchema = z.strictObject({
  name: hostname.describe("The zone Meridian's DNS server is authoritative for."),
  ttl: z
    .number()
    .int()
    .min(0)
    .max(86400)
    .default(30)
    .describe('TTL in seconds of steered answers: short, so that moves take effect fast.'),
  staticTtl: z.number().int().min(0).default(300).describe('TTL in seconds of static records, SOA and NS.'),
  soa: z
    .strictObject({
      mname: hostname.optional().describe('Primary name server; default: the first of `nameservers`.'),
      rname: hostname
        .default('hostmaster')
        .describe("Responsible person's mailbox, as a name ('hostmaster' is hostmaster@zone)."),
      refresh: z
        .number()
        .int()
        .min(0)
        .default(3600)
        .describe('Seconds between secondaries checking for changes.'),
      retry: z
        .number()
        .int()
        .min(0)
        .default(600)
        .describe('Seconds before a secondary retries a failed refresh.'),
      expire: z
        .number()
        .int()
        .min(0)
        .default(604800)
        .describe('Seconds after which a secondary that cannot refresh stops answering.'),
      minimum: z.number().int().min(0).default(60).describe('Negative-answer TTL (RFC 2308).'),
    })
    .prefault({})
    .describe("The zone's SOA record."),
  nameservers: z
    .array(
      z.strictObject({
        name: hostname.describe('Name of the name server (listed in NS).'),
        ipv4: z.array(ipv4).default([]).describe('Glue A addresses, for a name server inside the zone.'),
        ipv6: z.array(ipv6).default([]).describe('Glue AAAA addresses, for a name server inside the zone.'),
      }),
    )
    .default([])
    .describe("The zone's authoritative name servers (NS records)."),
  records: z.array(staticRecord).default([]).describe('Static records served as written, never steered.'),
  reloadInterval: duration
    .default(500)
    .describe('How often a running server re-reads the config file for changes.'),
});

export type ZoneConfig = z.output<typeof zoneSchema>;
export type StaticRecord = z.output<typeof staticRecord>;
