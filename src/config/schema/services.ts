import { z } from 'zod';
import { duration, hostname, httpUrl, regionId } from './common.js';

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
});

export type ServiceConfig = z.output<typeof serviceSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
