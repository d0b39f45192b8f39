import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Decision } from '../core/model.js';
import type { UpstreamAttempt } from './endpoint/upstream.js';
import type { ServiceRuntime } from './service-runtime.js';

/** Priority classes: lower is more important. */
export const CRITICAL = 0;
export const NORMAL = 1;
export const BEST_EFFORT = 2;
export const PRIORITY_BY_NAME: ReadonlyMap<string, number> = new Map([
  ['critical', CRITICAL],
  ['normal', NORMAL],
  ['best-effort', BEST_EFFORT],
]);

/** One try at serving the request: for logs, metrics and x-meridian-attempts. */
export interface Attempt {
  region: string;
  origin: string;
  status: number;
  ms: number;
}

/** A request that asks to switch protocols (Upgrade), read by Node's parser: see src/edge/tunnel. */
export interface UpgradeRequest {
  /** The Upgrade header's value as the client sent it ("websocket"). */
  protocols: string;
  /** Bytes the client sent after the request head. */
  head: Buffer;
}

/** What the inbound stages decided; the endpoint acts on it. */
export type Route = 'local' | 'remote' | 'redirect';

/** How the request ended, for metrics and the access log. */
export type Outcome =
  | 'served'
  | 'proxied'
  | 'retried'
  | 'failover'
  | 'redirected'
  | 'shed'
  | 'failed'
  | 'rejected'
  | 'aborted'
  | 'fault';

/**
 * The request as it moves through inbound stages -> endpoint -> outbound.
 * Stages only annotate it (Zuul 2's shape); the endpoint does the proxying.
 */
export class EdgeContext {
  service: ServiceRuntime | null = null;
  /** Request headers to send upstream: hop-by-hop removed, forwarding headers added. */
  upstreamHeaders: string[] = [];
  host = '';
  hop = false;
  hasBody = false;
  /** Declared Content-Length, or -1 (none, or chunked). */
  contentLength = -1;
  /**
   * The request may reach an origin more than once (src/edge/README.md, "Retries"): an
   * idempotent method, or it carries the idempotency key. Set by the endpoint.
   */
  retrySafe = false;
  /** The whole request body when it was read first so that the request may be retried. */
  bufferedBody: Buffer | null = null;
  debugAttempts = false;
  forwardedFor: string | undefined = undefined;
  priorityHeader: string | undefined = undefined;
  clientIp = '';
  decision: Decision | null = null;
  route: Route = 'local';
  /** Region of a remote or redirect route. */
  target = '';
  priority = NORMAL;
  /** Set by the shedding stage: the limiter slot to give back at the end (see ConcurrencyLimiter.tryForward). */
  slot: 'local' | 'forward' | null = null;
  attempts: Attempt[] | null = null;
  status = 0;
  outcome: Outcome = 'served';
  /** Region that produced the response. */
  servedBy = '';
  stage = 0;
  /** Set when the request asks to switch protocols; the tunnel endpoint serves it. */
  upgrade: UpgradeRequest | null = null;
  /** The attempt in flight, so a client abort can cancel it. */
  current: UpstreamAttempt | null = null;
  finished = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly startedAt: number,
  ) {}

  addAttempt(a: Attempt): void {
    if (this.attempts === null) this.attempts = [a];
    else this.attempts.push(a);
  }
}
