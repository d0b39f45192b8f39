// What the lab adds to control's config for issue 14's drills: a rollout plan
// whose deploy and rollback actions are webhooks to the lab's POST /deploy, and
// the outlier detector's clocks scaled to the run. Each part is added only when
// this build's config schema has its section (the rollout and outlier parts of
// control may be built apart from the lab), so the lab runs either way.
import { BAD_DEPLOY_FIX_AT } from '../chaos/drills/releases.js';
import { configSchema } from '../config/index.js';
import { controlSchema } from '../config/schema/control.js';
import { DEPLOY_SCRIPT } from './admin.js';

export interface ReleaseWiring {
  /** The lab's admin server (admin.ts): POST URL/deploy. */
  deployUrl: string;
  /** 0600 file holding its bearer token: the config names the file, never the token. */
  deployTokenFile: string;
  /** Regions in the config's order: one wave each. */
  regions: readonly string[];
  durationS: number;
  /** The lab's requests per second, all users together. */
  rate: number;
}

const hasKey = (schema: unknown, key: string) =>
  typeof schema === 'object' && schema !== null && key in ((schema as { shape?: object }).shape ?? {});

export const schemaHasRollout = () => hasKey(configSchema, 'rollout');
export const schemaHasOutlier = () => hasKey(controlSchema, 'outlier');

/**
 * The rollout drills start the rollout at a tenth of the run and leave it about
 * 0.8 of the run. Per wave: drain (about two bakes of steps), the deploy (two
 * origins restarted one by one, about 3 s on two busy cores), the canary at 25
 * and the ramp to 100 (a bake each), then the wait before the next wave (a
 * bake): five bakes and a deploy per region. So bake = (0.8 x duration /
 * regions - 3 s) / 5, at least 1 s, at most the 10 s a real plan would use:
 * 1.8 s for two regions in 30 s and for three in 45 s.
 */
export function labBakeMs(durationS: number, regions: number): number {
  const perWaveMs = (0.8 * durationS * 1000) / Math.max(1, regions);
  return Math.round(Math.min(10_000, Math.max(1000, (perWaveMs - 3000) / 5)));
}

/**
 * How control calls POST /deploy. A webhook with a bearer token by reference (`token: file:PATH`,
 * as `edge.admin.token`) when the schema's actions take one; else a command, `node -e
 * DEPLOY_SCRIPT URL TOKEN_FILE` (admin.ts), which sends the action's environment with the token
 * read from the file (control's webhooks send no Authorization header yet).
 */
export function labDeployAction(w: ReleaseWiring, accepts: (action: object) => boolean): object {
  const url = `${w.deployUrl}/deploy`;
  // Two origins restarted one by one, each waiting to serve: well under 30 s even on a busy machine.
  const webhook = { webhook: url, token: `file:${w.deployTokenFile}`, timeout: 30_000 };
  if (accepts(webhook)) return webhook;
  return { command: [process.execPath, '-e', DEPLOY_SCRIPT, url, w.deployTokenFile], timeout: 30_000 };
}

/** Whether this build's rollout schema takes `action` as the plan's deploy action. */
function schemaAccepts(plan: Record<string, unknown>, action: object): boolean {
  const rollout = (
    configSchema as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }
  ).shape.rollout;
  return rollout?.safeParse({ ...plan, actions: { deploy: action, rollback: action } }).success === true;
}

/**
 * The lab's rollout plan: one region per wave in the config's order, drained; actions call POST
 * /deploy. Where this build's schema has them, two more knobs on the lab's scale: the drain's steps as
 * quick as an evacuation's in the lab (a sixtieth of the run, 0.5 s to 2 s; at the default 2 s a
 * two-step drain took 9 s of a 30 s run), and the readings a judgement needs (edges report once a
 * second: one more than the seconds of a bake, 3 to the default 5; with 5, every 1.8 s bake waited
 * 5 s, and two regions did not fit in 30 s).
 */
export function labRolloutPlan(w: ReleaseWiring): Record<string, unknown> {
  const bake = labBakeMs(w.durationS, w.regions.length);
  const base: Record<string, unknown> = {
    waves: w.regions.map((r) => ({ regions: [r], strategy: 'drain' })),
    canary: { steps: [25, 100], bake, betweenWaves: bake },
  };
  const action = labDeployAction(w, (a) => schemaAccepts(base, a));
  const stepInterval = Math.round(Math.min(2000, Math.max(500, (w.durationS * 1000) / 60)));
  const minSamples = Math.min(5, Math.max(3, Math.floor(bake / 1000) + 1));
  let plan = base;
  for (const next of [
    { ...plan, drain: { stepInterval } },
    { canary: { ...(base.canary as object), minSamples } },
  ]) {
    const candidate = { ...plan, ...next };
    if (schemaAccepts(candidate, action)) plan = candidate;
  }
  return { ...plan, actions: { deploy: action, rollback: action } };
}

/**
 * The outlier detector's clocks on the lab's scale. bad-deploy deploys v3 at a
 * third of the run and puts v1 back at BAD_DEPLOY_FIX_AT; the region must come
 * back before the end, so it may be clearly fine for a twentieth of the run
 * before its restore starts, in steps of a sixtieth (0.5 to 1 s). An evacuated
 * region serves nobody, so control probes it after `probeAfter` (30 s by
 * default, longer than a run): the probe must come after v1 is back (a probe
 * that meets v3 doubles the wait). Measured at 60 s: redirected at 24 s (a third
 * and 4 s), probed 2.3 s after probeAfter ran out, v1 served 4.2 s after the
 * fix; so probeAfter = (fix - 1/3) x duration + 1 s probes about 1.6 s after v1
 * is back, whatever the duration. The traffic a region needs to be judged is
 * scaled to the lab's rate (a twentieth of it, 1 to the default 5 req/s).
 */
export function labOutlierClocks(durationS: number, rate: number, outlier: Record<string, unknown> = {}) {
  const ms = durationS * 1000;
  const scaled: Record<string, unknown> = {
    minRequestsPerSecond: Math.min(5, Math.max(1, rate / 20)),
    riseAfter: Math.round(Math.min(10_000, Math.max(1500, ms / 20))),
    stepInterval: Math.round(Math.min(1000, Math.max(500, ms / 60))),
    probeAfter: Math.round(Math.min(30_000, Math.max(3000, ms * (BAD_DEPLOY_FIX_AT - 1 / 3) + 1000))),
  };
  let out: Record<string, unknown> = { ...outlier };
  for (const [key, value] of Object.entries(scaled)) {
    const candidate = { ...out, [key]: value };
    if (outlierSchemaAccepts(candidate)) out = candidate;
  }
  return out;
}

function outlierSchemaAccepts(outlier: Record<string, unknown>): boolean {
  const shape = (
    controlSchema as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }
  ).shape;
  return shape.outlier?.safeParse(outlier).success === true;
}
