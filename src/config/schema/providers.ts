import { z } from 'zod';
import { httpUrl } from './common.js';

// Settings for `meridian dns sync`. Secrets (API keys, TSIG secrets, AWS keys)
// are not accepted here: they come from flags or the environment only.
const steering = z.enum(['geo', 'weighted', 'plain']).optional();

export const providersSchema = z.strictObject({
  powerdns: z
    .strictObject({
      apiUrl: httpUrl.optional(),
      serverId: z.string().min(1).default('localhost'),
      steering,
    })
    .prefault({}),
  rfc2136: z
    .strictObject({
      /** "ADDR:PORT" of the primary server that accepts updates. */
      server: z.string().min(1).optional(),
      tsigName: z.string().min(1).optional(),
      tsigAlgorithm: z
        .enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha1', 'hmac-md5'])
        .default('hmac-sha256'),
      steering,
    })
    .prefault({}),
  route53: z
    .strictObject({
      hostedZoneId: z.string().min(1).optional(),
      /** Another endpoint than AWS's, for API-compatible services. */
      endpoint: httpUrl.optional(),
      steering,
    })
    .prefault({}),
});

export type ProvidersConfig = z.output<typeof providersSchema>;
