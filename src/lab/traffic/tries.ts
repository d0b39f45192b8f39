// How a real HTTP client (a browser, curl, an HTTP library) moves through the
// addresses of a DNS answer and when it retries. Pure: traffic.ts acts on it.
//
// - A connect that fails sent nothing: any request moves on to the next
//   address; when every address failed, the client resolves again once.
// - A connection that dies after the request went out, before a response,
//   may have reached the server: only a request that is safe to repeat
//   (idempotent, or a POST with an Idempotency-Key) is sent again, once, on
//   the next address (on a new connection to the same one when there is none).
// - A timeout or a broken response is the user's error: browsers do not retry
//   those on their own.
import type { RequestKind } from '../../chaos/drills/types.js';

export type FailureKind = 'connect' | 'reset' | 'timeout' | 'other';

const CONNECT = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** What went wrong with one try, from the error the HTTP client threw. */
export function classifyFailure(err: unknown): FailureKind {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'other';
  if (CONNECT.has(code)) return 'connect';
  if (RESET.has(code)) return 'reset';
  if (TIMEOUT.has(code)) return 'timeout';
  return 'other';
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export function requestKind(method: string, idempotencyKey: string | undefined): RequestKind {
  if (IDEMPOTENT.has(method.toUpperCase())) return 'idempotent';
  return idempotencyKey ? 'postWithKey' : 'post';
}

export const retrySafe = (kind: RequestKind) => kind !== 'post';

/**
 * The order a user tries the answer's URLs in: one it still holds an open
 * connection to first (a client's pool reuses it rather than connect anew),
 * then the answer's order.
 */
export function orderCandidates(answer: readonly string[], connected: (url: string) => boolean): string[] {
  return [...new Set([...answer.filter(connected), ...answer])];
}

export interface TryState {
  /** URLs tried in this request. */
  tried: Set<string>;
  /** The one retry after a dead connection was used. */
  retried: boolean;
  /** Resolved again after every address failed to connect. */
  reResolved: boolean;
}

export type Move =
  | { kind: 'try'; url: string; retry: boolean }
  | { kind: 'resolve' }
  | { kind: 'give-up'; reason: string };

export const newTryState = (): TryState => ({ tried: new Set(), retried: false, reResolved: false });

/** The next step of one request, after `last` failed (null before the first try). */
export function nextMove(
  candidates: readonly string[],
  state: TryState,
  last: { url: string; failure: FailureKind } | null,
  kind: RequestKind,
): Move {
  const untried = candidates.find((u) => !state.tried.has(u));
  if (last === null || last.failure === 'connect') {
    if (untried !== undefined) return { kind: 'try', url: untried, retry: false };
    if (!state.reResolved) return { kind: 'resolve' };
    return { kind: 'give-up', reason: last === null ? 'no address' : 'connect failed' };
  }
  if (last.failure === 'reset') {
    if (!retrySafe(kind)) return { kind: 'give-up', reason: 'connection died; not safe to retry' };
    if (state.retried) return { kind: 'give-up', reason: 'connection died twice' };
    return { kind: 'try', url: untried ?? last.url, retry: true };
  }
  return { kind: 'give-up', reason: last.failure };
}
