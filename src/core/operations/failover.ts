// Control's own restore of a region it failed over (set to dial 0 when it
// went DOWN): when it is due, and in which steps.
import type { Snapshot } from '../model.js';
import { ended } from './record.js';
import type { FailedOverMark, Operation } from './types.js';

export interface FailOver {
  /** The operation, aborted when it was moving the region (it would set the dial again); else as it was. */
  operation: Operation | null;
  aborted: boolean;
  /** The region's dial now: always 0. */
  dial: 0;
  /** Remember the region with the dial to restore it to; null: nothing to remember. */
  remember: FailedOverMark | null;
}

/**
 * A region just declared DOWN: its dial goes to 0, and a running operation
 * that moves it stops. When control itself takes the dial away, the region is
 * remembered with the dial it had, so it comes back by itself once HEALTHY;
 * not when an operator (or another of control's moves, an outlier's
 * evacuation) was moving it: a dial an operator set is never restored
 * automatically. `autoRestore` false (disabled): nothing is remembered.
 */
export function failOverRegion(
  region: { id: string; dial: number },
  op: Operation | null,
  marks: readonly FailedOverMark[],
  now: number,
  autoRestore: boolean,
): FailOver {
  const moving = op?.status === 'running' && op.region === region.id ? op : null;
  const operation = moving
    ? ended(moving, 'aborted', `aborted: ${region.id} went DOWN at dial ${region.dial}; dial 0`, now)
    : op;
  // Still remembered from an automatic restore that gave up on its gates: the
  // same target, tried afresh once the region recovers from this DOWN.
  const earlier = marks.find((f) => f.region === region.id);
  const restoreTo = moving
    ? moving.failover
      ? moving.steps.at(-1)!
      : null
    : (earlier?.dial ?? (region.dial > 0 ? region.dial : null));
  const remember = restoreTo !== null && autoRestore ? { region: region.id, dial: restoreTo, at: now } : null;
  return { operation, aborted: moving !== null, dial: 0, remember };
}

/** Steps of an automatic restore: the configured ones between the current dial and the one to return to, then that dial. */
export function autoRestoreSteps(configured: readonly number[], dial: number, from = 0): number[] {
  return [...configured.filter((s) => s > from && s < dial), dial];
}

/**
 * The remembered regions whose automatic restore may start now: HEALTHY
 * again, below the dial they had, past a retry time after gates gave up
 * (`retryAt`) and past control's own wait after a refused start (`notBefore`).
 */
export function dueRestores(
  marks: readonly FailedOverMark[],
  snap: Snapshot,
  now: number,
  notBefore: ReadonlyMap<string, number> = new Map(),
): FailedOverMark[] {
  return marks.filter((mark) => {
    const r = snap.regions.get(mark.region);
    if (r?.health !== 'HEALTHY' || r.dial >= mark.dial) return false;
    return (mark.retryAt ?? 0) <= now && (notBefore.get(mark.region) ?? 0) <= now;
  });
}
