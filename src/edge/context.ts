import type { Decision } from '../core/model.js';
import type { ClientExchange, UpgradeRequest } from './exchange/client-exchange.js';
import type { Outcome } from './outcome.js';
import { NORMAL } from './priority.js';
import type { ServiceRuntime } from './service-runtime.js';

/** One try at serving the request: for logs, metrics and x-meridian-attempts. */
export interface Attempt {
  region: string;
  origin: string;
  status: number;
  ms: number;
}

/** What the inbound stages decided; the endpoint acts on it. */
export type Route = 'local' | 'remote' | 'redirect';

/** The upstream attempt in flight, as far as a client that leaves needs it. */
export interface Cancelable {
  cancel(): void;
}

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
  /**
   * The exchange's Upgrade (x.upgrade) while the tunnel endpoint serves it;
   * null for every other request, and once the endpoint falls back to proxying (h2c).
   */
  upgrade: UpgradeRequest | null;
  /** The attempt in flight, so a client abort can cancel it. */
  current: Cancelable | null = null;
  finished = false;

  constructor(
    /** The request and its response, whatever listener carries them. */
    readonly x: ClientExchange,
    readonly startedAt: number,
  ) {
    this.upgrade = x.upgrade ?? null;
  }

  addAttempt(a: Attempt): void {
    if (this.attempts === null) this.attempts = [a];
    else this.attempts.push(a);
  }
}
