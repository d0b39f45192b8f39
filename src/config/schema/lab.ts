import { z } from 'zod';
import { regionId } from './common.js';

export const labScenario = z.enum([
  'steady',
  'kong',
  'evacuate',
  'split-brain',
  'latency',
  'bad-deploy',
  'global-bad',
  'rollout-good',
  'rollout-bad',
  'all',
]);

/** `meridian lab`: a whole deployment on this machine. Flags override these. */
export const labSchema = z.strictObject({
  scenario: labScenario.default('kong'),
  /** Length of one scenario in seconds. */
  duration: z.number().min(6).max(3600).default(60),
  /** Requests per second from all virtual users together. */
  rate: z.number().positive().max(5000).default(60),
  /** Virtual users placed at real addresses, by population. */
  users: z.number().int().min(1).max(100_000).default(2000),
  /** Share of requests that write (PUT or DELETE an item); the rest read the list. */
  writeShare: z.number().min(0).max(1).default(0.2),
  /** Seed of the users' placement and the request mix: the same seed, the same run. */
  seed: z.number().int().default(1),
  /** Region whose origins die (kong), is evacuated, gets slow or gets a bad deploy; default: the first. */
  target: regionId.optional(),
  links: z
    .strictObject({
      /** Round trip added between two regions by the fault proxy, when not listed below. */
      defaultRttMs: z.number().min(0).max(5000).default(70),
      rtt: z
        .array(z.strictObject({ between: z.tuple([regionId, regionId]), ms: z.number().min(0).max(5000) }))
        .default([]),
    })
    .prefault({}),
});

export type LabConfig = z.output<typeof labSchema>;
