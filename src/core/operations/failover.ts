// Control's own restore of a region it failed over (set to dial 0 when it
// went DOWN): when it is due, and in which steps.
import type { Snapshot } from '../model.js';
import type { FailedOverMark } from './types.js';

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
