import { z } from 'zod';
import { httpUrl } from './common.js';

// Settings for `meridian dns sync`. Secrets (API keys, TSIG secrets, AWS keys)
// are not accepted here: they come from flags or the environment only.
const steering = z
  .enum(['geo', 'weighted', 'plain'])
  .optional()
  .describe(
    "How record sets express steering (src/providers/README.md); `--steering` overrides it. Default: the provider's first supported mode.",
  );

export const providersSchema = z.strictObject({
  powerdns: z
    .strictObject({
      apiUrl: httpUrl
        .optional()
        .describe('PowerDNS Authoritative HTTP API base URL, such as http://127.0.0.1:8081.'),
      serverId: z.string().min(1).default('localhost').describe('Server id in the API path (/servers/ID).'),
      steering,
    })
    .prefault({})
    .describe('PowerDNS Authoritative through its HTTP API (key from `--api-key` or the environment).'),
  rfc2136: z
    .strictObject({
      server: z
        .string()
        .min(1)
        .optional()
        .describe('"ADDR:PORT" of the primary server that accepts updates.'),
      tsigName: z
        .string()
        .min(1)
        .optional()
        .describe('Name of the TSIG key that signs updates (secret from the environment).'),
      tsigAlgorithm: z
        .enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha1', 'hmac-md5'])
        .default('hmac-sha256')
        .describe('TSIG algorithm of that key.'),
      steering,
    })
    .prefault({})
    .describe('Any server that takes RFC 2136 dynamic updates (BIND, Knot, PowerDNS).'),
  route53: z
    .strictObject({
      hostedZoneId: z.string().min(1).optional().describe('Route 53 hosted zone id of `zone.name`.'),
      endpoint: httpUrl.optional().describe("Another endpoint than AWS's, for API-compatible services."),
      steering,
    })
    .prefault({})
    .describe('AWS Route 53 (credentials from the AWS SDK default chain).'),
});

export type ProvidersConfig = z.output<typeof providersSchema>;
