import { z } from 'zod';
import { secretRef } from '../secret.js';
import { duration, httpUrl, percent, regionId } from './common.js';

/** One action of the plan: a command (argv, run without a shell) or a webhook (POST, JSON body). */
const actionSchema = z
  .strictObject({
    command: z.array(z.string().min(1)).min(1).optional(),
    webhook: httpUrl.optional(),
    /** A webhook's bearer token (`Authorization: Bearer`), read when the action runs: `env:NAME` or `file:PATH`. */
    token: secretRef.optional(),
    /** The action fails (and a command is killed) after this long. */
    timeout: duration.default(60_000),
  })
  .refine((a) => (a.command === undefined) !== (a.webhook === undefined), {
    message: 'expected exactly one of command, webhook',
  })
  .refine((a) => a.token === undefined || a.webhook !== undefined, {
    message: 'token goes with a webhook (a command reads its own credentials)',
    path: ['token'],
  });

const waveSchema = z.strictObject({
  regions: z.array(regionId).min(1),
  /** drain: evacuate, deploy, canary and ramp up; in-place: deploy while serving, then judge. */
  strategy: z.enum(['drain', 'in-place']).default('drain'),
});

const risingSteps = z
  .array(percent)
  .min(1)
  .refine((s) => s.every((d, i) => i === 0 || d > s[i - 1]), { message: 'expected steps going up' });

const canarySchema = z.strictObject({
  /** Dials after deploy (drain strategy): canary at the first, ramp through the rest. */
  steps: risingSteps.default([10, 50, 100]),
  /** Per step: collect readings this long, then judge. */
  bake: duration.default(10_000),
  betweenWaves: duration.default(5_000),
  maxErrorRateIncrease: z.number().min(0).max(1).default(0.02),
  maxP99Ratio: z.number().min(1).default(1.5),
  /** And the canary's p99 must be this much above the baseline's to count as worse. */
  p99Margin: duration.default(50),
  /** Mann-Whitney U: a metric is worse when p < 1 - confidence (and beyond its threshold). */
  confidence: z.number().gt(0).lt(1).default(0.95),
  /** Fewest canary readings a judgement needs; the bake is extended (up to two more) until there are. */
  minSamples: z.number().int().min(1).default(5),
  /** Optional extra metrics (not evaluated yet: accepted so plans can carry them). */
  prometheus: z
    .array(z.strictObject({ name: z.string().min(1), query: z.string().min(1), maxRatio: z.number().min(1) }))
    .default([]),
});

const drainSchema = z.strictObject({
  /** Dials a drain-strategy wave's regions go through before their deploy, each through the gates. */
  steps: z
    .array(percent)
    .min(1)
    .refine((s) => s.every((d, i) => i === 0 || d < s[i - 1]), { message: 'expected steps going down' })
    .default([50, 0]),
  stepInterval: duration.default(2_000),
  /** Failed gate checks in a row before the rollout gives up and rolls back. */
  maxGateFailures: z.number().int().min(1).default(5),
});

export const rolloutSchema = z.strictObject({
  /** Default: one region per wave, in the order of `regions`, strategy drain. */
  waves: z.array(waveSchema).min(1).optional(),
  canary: canarySchema.prefault({}),
  drain: drainSchema.prefault({}),
  actions: z.strictObject({
    deploy: actionSchema,
    rollback: actionSchema,
    verify: actionSchema.optional(),
  }),
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
