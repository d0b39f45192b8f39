// What the lab adds to control's config for the release drills: a rollout plan
// whose deploy and rollback actions are webhooks to the lab's POST /deploy, and
// the outlier detector's clocks scaled to the run.
import { BAD_DEPLOY_FIX_AT } from '../chaos/drills/releases.js';

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

/** How control calls POST /deploy: a webhook whose bearer token control reads from the lab's 0600 file. */
export function labDeployAction(w: ReleaseWiring) {
  // Two origins restarted one by one, each waiting to serve: well under 30 s even on a busy machine.
  return { webhook: `${w.deployUrl}/deploy`, token: `file:${w.deployTokenFile}`, timeout: 30_000 };
}

/**
 * The lab's rollout plan: one region per wave in the config's order, drained; actions call POST
 * /deploy. The drain's steps as quick as an evacuation's in the lab (a sixtieth of the run, 0.5 s to
 * 2 s; at the default 2 s a two-step drain took 9 s of a 30 s run), and the readings a judgement
 * needs (edges report once a second: one more than the seconds of a bake, 3 to the default 5; with 5,
 * every 1.8 s bake waited 5 s, and two regions did not fit in 30 s).
 */
export function labRolloutPlan(w: ReleaseWiring): Record<string, unknown> {
  const bake = labBakeMs(w.durationS, w.regions.length);
  const action = labDeployAction(w);
  return {
    waves: w.regions.map((r) => ({ regions: [r], strategy: 'drain' })),
    canary: {
      steps: [25, 100],
      bake,
      betweenWaves: bake,
      minSamples: Math.min(5, Math.max(3, Math.floor(bake / 1000) + 1)),
    },
    drain: { stepInterval: Math.round(Math.min(2000, Math.max(500, (w.durationS * 1000) / 60))) },
    actions: { deploy: action, rollback: action },
  };
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
export function labOutlierClocks(
  durationS: number,
  rate: number,
  outlier: Record<string, unknown> = {},
): Record<string, unknown> {
  const ms = durationS * 1000;
  const scaled = {
    minRequestsPerSecond: Math.min(5, Math.max(1, rate / 20)),
    riseAfter: Math.round(Math.min(10_000, Math.max(1500, ms / 20))),
    stepInterval: Math.round(Math.min(1000, Math.max(500, ms / 60))),
    probeAfter: Math.round(Math.min(30_000, Math.max(3000, ms * (BAD_DEPLOY_FIX_AT - 1 / 3) + 1000))),
  };
  return { ...outlier, ...scaled };
}
