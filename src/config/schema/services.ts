import { z } from 'zod';
import { duration, hostname, httpUrl, regionId } from './common.js';
import { answerPolicy } from './steering.js';

export const healthCheckSchema = z.strictObject({
  path: z
    .string()
    .startsWith('/')
    .default('/health')
    .describe('Path the edge GETs on each origin; 2xx is up.'),
  interval: duration.default(1000).describe('Time between checks of one origin (duration or milliseconds).'),
  timeout: duration.default(500).describe('A check that takes longer than this fails.'),
  rise: z.number().int().min(1).default(2).describe('Consecutive successes before an origin is up again.'),
  fall: z.number().int().min(1).default(2).describe('Consecutive failures before an origin is down.'),
});

export const serviceSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case service name such as api')
    .describe('Short name of the service, used in logs, metrics and `edge.services`.'),
  hostname: hostname.describe('The name clients resolve, inside `zone.name`; DNS steers it.'),
  origins: z
    .array(
      z.strictObject({
        region: regionId.describe('Region id (from `regions`) these origins serve in.'),
        urls: z.array(httpUrl).min(1).describe("Base URLs of the region's origin servers."),
      }),
    )
    .min(1)
    .describe("Each region's origin servers for this service."),
  healthCheck: healthCheckSchema.prefault({}).describe("The edge's active health check of each origin."),
  misrouted: z
    .enum(['proxy', 'redirect'])
    .default('proxy')
    .describe('What an edge does with a client whose home region is elsewhere.'),
  ttl: z
    .number()
    .int()
    .min(0)
    .max(86400)
    .optional()
    .describe(
      "TTL in seconds of this hostname's steered answers, as a Route 53 record set has its own; default `zone.ttl`. Shorter: cached clients leave a dead region sooner, at the cost of more queries.",
    ),
  answers: answerPolicy
    .optional()
    .describe(
      "What this hostname's A/AAAA answer lists (`home` or `home+fallback`); default `steering.answers`.",
    ),
});

export type ServiceConfig = z.output<typeof serviceSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
