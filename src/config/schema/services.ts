import { z } from 'zod';
import { duration, hostname, httpUrl, regionId } from './common.js';
import { answerPolicy } from './steering.js';

export const healthCheckSchema = z.strictObject({
  path: z.string().startsWith('/').default('/health'),
  interval: duration.default(1000),
  timeout: duration.default(500),
  /** Consecutive successes before an origin is up again. */
  rise: z.number().int().min(1).default(2),
  /** Consecutive failures before an origin is down. */
  fall: z.number().int().min(1).default(2),
});

export const serviceSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case service name such as api'),
  hostname,
  origins: z.array(z.strictObject({ region: regionId, urls: z.array(httpUrl).min(1) })).min(1),
  healthCheck: healthCheckSchema.prefault({}),
  /** What an edge does with a client whose home region is elsewhere. */
  misrouted: z.enum(['proxy', 'redirect']).default('proxy'),
  /**
   * TTL in seconds of this hostname's steered answers, as a Route 53 record set has its own;
   * default `zone.ttl`. Shorter: cached clients leave a dead region sooner, at the cost of more queries.
   */
  ttl: z.number().int().min(0).max(86400).optional(),
  /** What this hostname's A/AAAA answer lists (`home` or `home+fallback`); default `steering.answers`. */
  answers: answerPolicy.optional(),
});

export type ServiceConfig = z.output<typeof serviceSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
