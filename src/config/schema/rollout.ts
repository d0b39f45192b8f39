import { z } from 'zod';
import { secretRef } from '../secret.js';
import { duration, httpUrl, percent, regionId } from './common.js';

const actionSchema = z
  .strictObject({
    command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Program and arguments, run without a shell.'),
    webhook: httpUrl
      .optional()
      .describe('URL POSTed with a JSON body: action, region, version, previousVersion, rollout.'),
    token: secretRef
      .optional()
      .describe(
        "A webhook's bearer token (`Authorization: Bearer`), read when the action runs: `env:NAME` or `file:PATH`.",
      ),
    timeout: duration.default(60_000).describe('The action fails (and a command is killed) after this long.'),
  })
  .refine((a) => (a.command === undefined) !== (a.webhook === undefined), {
    message: 'expected exactly one of command, webhook',
  })
  .refine((a) => a.token === undefined || a.webhook !== undefined, {
    message: 'token goes with a webhook (a command reads its own credentials)',
    path: ['token'],
  })
  .describe('One action of the plan: a command (argv, run without a shell) or a webhook (POST, JSON body).');

const waveSchema = z.strictObject({
  regions: z.array(regionId).min(1).describe('Region ids (from `regions`) deployed together in this wave.'),
  strategy: z
    .enum(['drain', 'in-place'])
    .default('drain')
    .describe('drain: evacuate, deploy, canary and ramp up; in-place: deploy while serving, then judge.'),
});

const risingSteps = z
  .array(percent)
  .min(1)
  .refine((s) => s.every((d, i) => i === 0 || d > s[i - 1]), { message: 'expected steps going up' });

const canarySchema = z.strictObject({
  steps: risingSteps
    .default([10, 50, 100])
    .describe('Dials after deploy (drain strategy): canary at the first, ramp through the rest.'),
  bake: duration.default(10_000).describe('Per step: collect readings this long, then judge.'),
  betweenWaves: duration.default(5_000).describe('Pause after a wave succeeds before the next starts.'),
  maxErrorRateIncrease: z
    .number()
    .min(0)
    .max(1)
    .default(0.02)
    .describe("The canary is worse when its error rate is above the baseline's by more than this (0-1)."),
  maxP99Ratio: z
    .number()
    .min(1)
    .default(1.5)
    .describe("The canary is worse when its p99 is above this many times the baseline's."),
  p99Margin: duration
    .default(50)
    .describe("And the canary's p99 must be this much above the baseline's to count as worse."),
  confidence: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.95)
    .describe('Mann-Whitney U: a metric is worse when p < 1 - confidence (and beyond its threshold).'),
  minSamples: z
    .number()
    .int()
    .min(1)
    .default(5)
    .describe(
      'Fewest canary readings a judgement needs; the bake is extended (up to two more) until there are.',
    ),
  prometheus: z
    .array(
      z.strictObject({
        name: z.string().min(1).describe('Name of the reading.'),
        query: z.string().min(1).describe('PromQL query giving one value per region.'),
        maxRatio: z.number().min(1).describe("Worse above this many times the baseline's value."),
      }),
    )
    .default([])
    .describe('Optional extra metrics (not evaluated yet: accepted so plans can carry them).'),
});

const drainSchema = z.strictObject({
  steps: z
    .array(percent)
    .min(1)
    .refine((s) => s.every((d, i) => i === 0 || d < s[i - 1]), { message: 'expected steps going down' })
    .default([50, 0])
    .describe(
      "Dials a drain-strategy wave's regions go through before their deploy, each through the gates.",
    ),
  stepInterval: duration.default(2_000).describe('Time between drain steps.'),
  maxGateFailures: z
    .number()
    .int()
    .min(1)
    .default(5)
    .describe('Failed gate checks in a row before the rollout gives up and rolls back.'),
});

export const rolloutSchema = z.strictObject({
  waves: z
    .array(waveSchema)
    .min(1)
    .optional()
    .describe('Default: one region per wave, in the order of `regions`, strategy drain.'),
  canary: canarySchema
    .prefault({})
    .describe('How a deployed wave is judged against the regions not yet deployed.'),
  drain: drainSchema.prefault({}).describe('How a drain-strategy wave is emptied before its deploy.'),
  actions: z
    .strictObject({
      deploy: actionSchema.describe('Deploys the new version to one region (a command or a webhook).'),
      rollback: actionSchema.describe(
        'Puts the previous version back in one region (a command or a webhook).',
      ),
      verify: actionSchema
        .optional()
        .describe('Optional check after a deploy, before traffic comes back (a command or a webhook).'),
    })
    .describe('What `meridian rollout` runs for each region; it never deploys by itself.'),
});

export type RolloutConfig = z.output<typeof rolloutSchema>;
export type RolloutActionConfig = z.output<typeof actionSchema>;
export type RolloutWave = z.output<typeof waveSchema>;

/** The waves to run: the configured ones, or one region per wave in the order of `regions`. */
export function rolloutWaves(
  rollout: RolloutConfig | undefined,
  regionIds: readonly string[],
): RolloutWave[] {
  return rollout?.waves ?? regionIds.map((id) => ({ regions: [id], strategy: 'drain' as const }));
}

/** Waves name known regions, each region in one wave at most. */
export function rolloutChecks(
  rollout: RolloutConfig | undefined,
  known: (id: string) => boolean,
  ctx: z.RefinementCtx,
) {
  const seen = new Set<string>();
  rollout?.waves?.forEach((w, i) => {
    w.regions.forEach((id, j) => {
      const path = ['rollout', 'waves', i, 'regions', j];
      if (!known(id))
        ctx.addIssue({ code: 'custom', path, message: `expected a region id from regions, got "${id}"` });
      else if (seen.has(id))
        ctx.addIssue({ code: 'custom', path, message: `region "${id}" is already in an earlier wave` });
      seen.add(id);
    });
  });
}
