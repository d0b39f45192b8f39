export interface Backoff {
  /** Delay before the first retry, ms (the ceiling of its jitter). */
  baseMs: number;
  /** No retry waits longer than this, ms. */
  capMs: number;
}

export const SYNC_BACKOFF: Backoff = { baseMs: 1000, capMs: 60_000 };

/**
 * Exponential backoff with full jitter (AWS's "Exponential Backoff And
 * Jitter"): anywhere in [0, min(cap, base * 2^attempt)), so many syncs that
 * failed together do not all return to the provider at once.
 */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(b.capMs, b.baseMs * 2 ** Math.min(attempt, 30)));
}
