import { request } from 'undici';
import { type MovePlan, planMove } from '../core/evacuation-plan.js';
import type { Snapshot } from '../core/model.js';
import { checkRpoAll, type RegionLag } from '../core/rpo.js';
import { MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ControlState, FailedOver, OperationRecord } from './store/index.js';

export interface MoveRequest {
  kind: 'evacuate' | 'restore';
  region: string;
  steps: number[];
  stepIntervalMs: number;
  reason: string;
  dryRun?: boolean;
}

/** Checks a move request against the snapshot and returns its plan. */
export function planRequest(snap: Snapshot, req: MoveRequest, margin: number): MovePlan {
  if (!snap.regions.has(req.region)) {
    throw new MeridianError(
      'UNKNOWN_REGION',
      `no region "${req.region}"; known: ${[...snap.regions.keys()].join(', ')}`,
    );
  }
  if (req.steps.length === 0) throw new MeridianError('BAD_ARGUMENT', 'at least one step is needed');
  const down = (d: number, i: number) => i === 0 || d <= req.steps[i - 1];
  const up = (d: number, i: number) => i === 0 || d >= req.steps[i - 1];
  if (!req.steps.every(req.kind === 'evacuate' ? down : up)) {
    throw new MeridianError(
      'BAD_ARGUMENT',
      `${req.kind} steps must go ${req.kind === 'evacuate' ? 'down' : 'up'}: ${req.steps.join(',')}`,
    );
  }
  return planMove(snap, req.region, req.steps, margin);
}

/** Asks for capacity; the operation then waits until reports show the headroom. */
export async function callScaleUp(hook: string, op: OperationRecord, plan: MovePlan, log: Logger) {
  try {
    const res = await request(hook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        operation: op.id,
        region: op.region,
        receivers: plan.receivers,
        needed: plan.needed,
        headroom: plan.headroom,
        reason: op.reason,
      }),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    await res.body.dump();
    log.info({ hook, status: res.statusCode, operation: op.id }, 'scale-up webhook called');
  } catch (e) {
    log.error({ hook, err: (e as Error).message }, 'scale-up webhook failed');
  }
}

/** The replication side of a move: each receiver's reported lag against the RPO (null when no RPO is set). */
export interface ReplicationCheck {
  rpoMs: number;
  ok: boolean;
  regions: RegionLag[];
}

export function replicationCheck(
  receivers: readonly string[],
  lags: ReadonlyMap<string, number | undefined>,
  rpoMs: number | undefined,
): ReplicationCheck | null {
  return rpoMs === undefined ? null : checkRpoAll(receivers, lags, rpoMs);
}

/** The refusal when a receiver's data is too far behind, with the numbers. */
export function rpoRefusal(check: ReplicationCheck): MeridianError {
  const late = check.regions.filter((r) => !r.ok);
  return new MeridianError(
    'CONFLICT',
    `refused: replication lag of ${late.map((r) => `${r.region} is ${r.lagMs} ms`).join(', ')}, above the RPO of ${check.rpoMs} ms`,
    check.regions.map((r) => r.reason),
  );
}

/** Control will bring the region back to `mark.dial` by itself (replaces an earlier mark of it). */
export function rememberFailedOver(draft: ControlState, mark: FailedOver) {
  draft.failedOver = [...(draft.failedOver ?? []).filter((f) => f.region !== mark.region), mark];
}

/** An operator's dial or move on a region takes it out of the automatic restore. */
export function forgetFailedOver(draft: ControlState, region: string) {
  if (!draft.failedOver?.some((f) => f.region === region)) return;
  draft.failedOver = draft.failedOver.filter((f) => f.region !== region);
}

type Draft = { snapshot: { regions: { id: string; dial: number }[] } };

export function setDial(draft: Draft, region: string, dial: number) {
  const r = draft.snapshot.regions.find((x) => x.id === region);
  if (r) r.dial = dial;
}

export const currentDial = (draft: Draft, region: string) =>
  draft.snapshot.regions.find((r) => r.id === region)?.dial;
