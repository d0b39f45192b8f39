import { z } from 'zod';
import { duration, regionId } from './common.js';

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

export const labSchema = z
  .strictObject({
    scenario: labScenario.default('kong').describe('Drill to run (`all` runs every one in turn).'),
    duration: z.number().min(6).max(3600).default(60).describe('Length of one scenario in seconds.'),
    rate: z
      .number()
      .positive()
      .max(5000)
      .default(60)
      .describe('Requests per second from all virtual users together.'),
    users: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(2000)
      .describe('Virtual users placed at real addresses, by population.'),
    writeShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('Share of requests that write (PUT or DELETE an item); the rest read the list.'),
    seed: z
      .number()
      .int()
      .default(1)
      .describe("Seed of the users' placement and the request mix: the same seed, the same run."),
    target: regionId
      .optional()
      .describe(
        'Region whose origins die (kong), is evacuated, gets slow or gets a bad deploy; default: the first.',
      ),
    links: z
      .strictObject({
        defaultRttMs: z
          .number()
          .min(0)
          .max(5000)
          .default(70)
          .describe('Round trip added between two regions by the fault proxy, when not listed below.'),
        rtt: z
          .array(
            z.strictObject({
              between: z.tuple([regionId, regionId]).describe('The two region ids of the link.'),
              ms: z.number().min(0).max(5000).describe('Round trip added on that link, in milliseconds.'),
            }),
          )
          .default([])
          .describe('Round trips of particular links.'),
      })
      .prefault({})
      .describe('Simulated network between regions.'),
    repeatTarget: z
      .enum(['rotate', 'fixed'])
      .default('rotate')
      .describe(
        "`--repeat-for`: rotate moves the drills' target across the regions in blocks of cycles (every region's processes are killed and also live one long life); fixed keeps it on `target`, so the other regions' processes live the whole run (the 30-minute soak).",
      ),
    streamMaxAge: duration
      .prefault('24h')
      .describe(
        "How long the lab's NATS streams keep events (every relay's `replication.nats.maxAge`) on the Redis+NATS path. The soak sets 10m so the streams reach their steady size within its warm-up.",
      ),
  })
  .describe('`meridian lab`: a whole deployment on this machine. Flags override these.');

export type LabConfig = z.output<typeof labSchema>;
