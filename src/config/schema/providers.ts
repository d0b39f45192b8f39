import { z } from 'zod';
import { duration, httpUrl } from './common.js';

// Settings for `meridian dns sync`. Secrets (API keys, TSIG secrets, AWS keys)
// are not accepted here: they come from flags or the environment only.
const steering = z
  .enum(['geo', 'weighted', 'plain'])
  .optional()
  .describe(
    "How record sets express steering (src/providers/README.md); `--steering` overrides it. Default: the provider's first supported mode.",
  );

export const providersSchema = z.strictObject({
  ownerId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected letters, digits, "_", "." or "-" (at most 64)')
    .default('default')
    .describe(
      'Owner id in the `_meridian-owner.<name>` TXT markers: `dns sync` changes only names whose marker carries it (or free names, which it marks). `--owner-id` overrides.',
    ),
  admin: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'expected ADDRESS:PORT such as 127.0.0.1:8304')
    .default('127.0.0.1:8304')
    .describe(
      '`dns sync --watch` admin HTTP address (/metrics, /meridian/health, /meridian/ready); port 0 picks a free one. `--admin` overrides.',
    ),
  interval: duration
    .default(60_000)
    .describe(
      '`dns sync --watch` compares again this often without a snapshot change, to find and repair drift. `--interval` overrides.',
    ),
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
