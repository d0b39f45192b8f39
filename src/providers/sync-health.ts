import { SYNC_BACKOFF } from './backoff.js';

/** What `dns sync --watch` knows about its own syncs, for /meridian/health and /meridian/ready. */
export interface SyncState {
  startedAt: number;
  lastSuccessAt?: number;
  lastFailureAt?: number;
  lastError?: string;
  draining?: boolean;
}

/** Three intervals without a success, and never less than two of the longest backoff waits. */
export const staleAfterMs = (intervalMs: number) => Math.max(3 * intervalMs, 2 * SYNC_BACKOFF.capMs);

/**
 * Healthy while the last sync succeeded, or while the last success (before
 * the first one: the start) is younger than `staleAfter`: a few failures in
 * a row are retried, a provider that keeps failing makes the process unhealthy.
 */
export function syncHealth(s: SyncState, now: number, staleAfter: number) {
  const lastOk = s.lastSuccessAt !== undefined && (s.lastFailureAt ?? 0) <= s.lastSuccessAt;
  const since = s.lastSuccessAt ?? s.startedAt;
  return {
    healthy: lastOk || now - since < staleAfter,
    lastSuccessAt: s.lastSuccessAt === undefined ? null : new Date(s.lastSuccessAt).toISOString(),
    lastError: lastOk ? null : (s.lastError ?? null),
    staleAfterS: staleAfter / 1000,
  };
}

/** Ready once a sync has succeeded: the provider then holds what the snapshot says. */
export function syncReadiness(s: SyncState) {
  if (s.draining) return { ready: false, draining: true };
  if (s.lastSuccessAt === undefined) return { ready: false, waitingFor: ['first sync'] };
  return { ready: true };
}
