// The rollout and outlier state as control's API sends it (SPEC14.md: GET /v1/rollouts/current,
// GET /v1/status's `rollout` and `outlier`): the store's own types, and helpers shared by the CLI and
// the dashboard (web/).

import type { RolloutJudgement, RolloutRecord, RolloutRegion } from '../core/operations/rollout-record.js';
import type { OutlierState as StoredOutlierState } from '../core/outlier-moves.js';

export type {
  RolloutJudgement,
  RolloutRecord,
  RolloutRegion,
  RolloutStatus,
} from '../core/operations/rollout-record.js';
export type { OutlierDecision } from '../core/outlier-moves.js';

/** What GET /v1/status sends: the stored state, plus whether detection is on (false when control.outlier is off). */
export type OutlierState = StoredOutlierState & { enabled?: boolean };

/** A metric's value in four significant digits. */
export const formatValue = (x: number) => String(Number(x.toPrecision(4)));

/** A p-value in two significant digits; below 0.0001 (or an underflow to 0) as "< 0.0001". */
export const formatPValue = (p: number) => (p < 0.0001 ? '< 0.0001' : String(Number(p.toPrecision(2))));

/** A rollout that will not change any more. */
export const rolloutFinished = (r: RolloutRecord) =>
  r.status === 'done' || r.status === 'rolled-back' || r.status === 'aborted';

/** The judgement that stopped a rollout: the last failed one, if any. */
export const stoppingJudgement = (r: RolloutRecord): RolloutJudgement | null =>
  [...r.judgements].reverse().find((j) => !j.pass) ?? null;

/** Why a rollout stopped: the failed judgement, else control's failure (a failed action, an abort), else its message. */
export function stopReason(r: RolloutRecord): string {
  const j = stoppingJudgement(r);
  if (j) return `stopped by the judgement of ${j.region} at dial ${j.dial} %: ${j.why}`;
  return r.failure?.why || r.message;
}

/** Waves finished so far (all of them once the rollout is done). */
export const wavesDone = (r: RolloutRecord) =>
  r.status === 'done' ? r.waves.length : Math.max(0, Math.min(r.waveIndex, r.waves.length));

/** "wave 2/3"; control starts a rollout at wave index -1, before its first wave. */
export const waveOf = (r: RolloutRecord) =>
  r.waveIndex < 0
    ? `before wave 1/${r.waves.length}`
    : `wave ${Math.min(r.waveIndex + 1, r.waves.length)}/${r.waves.length}`;

/** A region's entry; own properties only, so a region named like an Object method (`constructor`) works. */
export const regionOf = (r: RolloutRecord, id: string): RolloutRegion | undefined =>
  Object.hasOwn(r.regions, id) ? r.regions[id] : undefined;
