import { H1Pool } from '../upstream/pool.js';

export interface UpstreamOptions {
  connections: number;
  connectTimeout: number;
  headersTimeout: number;
  idleTimeout: number;
}

export interface PassiveHealthOptions {
  consecutiveFailures: number;
  /** Refused connections in a row that mark an origin down until the active check sees it up. */
  consecutiveConnectFailures: number;
  baseEjection: number;
  maxEjection: number;
}

/** The one HTTP client of an upstream (src/edge/upstream): proxied requests, health checks and peer probes. */
export function requestPool(url: string, o: UpstreamOptions): H1Pool {
  return new H1Pool(url, {
    connections: o.connections,
    connectTimeout: o.connectTimeout,
    headersTimeout: o.headersTimeout,
    idleTimeout: o.idleTimeout,
    keepAliveTimeout: 30_000,
  });
}

/**
 * One origin: its pool, requests in flight (for least-outstanding choice),
 * the active check's verdict and passive ejection state.
 */
export class Origin {
  inFlight = 0;
  /** Verdict of the active health check. */
  up = true;
  ejectedUntil = 0;
  private ejections = 0;
  private lastEjectedAt = 0;
  private consecutiveFailures = 0;
  private consecutiveConnectFailures = 0;
  /** Proxied requests and health checks. */
  readonly upstream: H1Pool;

  constructor(
    readonly url: string,
    readonly region: string,
    upstream: UpstreamOptions,
    private readonly passive: PassiveHealthOptions,
    /** Called when availability may have changed, so the set recomputes its list. */
    private readonly onChange: () => void,
  ) {
    this.upstream = requestPool(url, upstream);
  }

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  /** A connect error, reset or 5xx. Returns true when this failure ejected the origin. */
  failure(now: number, mayEject: (now: number) => boolean): boolean {
    if (++this.consecutiveFailures < this.passive.consecutiveFailures || this.isEjected(now)) return false;
    if (!mayEject(now)) return false;
    // Ejection time doubles on repeat; an origin that stayed in for a while starts over.
    if (now - this.lastEjectedAt > this.passive.maxEjection * 2) this.ejections = 0;
    const ms = Math.min(this.passive.maxEjection, this.passive.baseEjection * 2 ** this.ejections);
    this.ejections++;
    this.lastEjectedAt = now;
    this.ejectedUntil = now + ms;
    this.consecutiveFailures = 0;
    this.onChange();
    return true;
  }

  /**
   * A refused connection (nothing listens): what an active check would see, so
   * enough of them in a row mark the origin down at once, outside the ejection
   * cap, and the active check's rise count brings it back (HAProxy's
   * `observe layer4 on-error mark-down`). Returns true when this marked it down.
   */
  connectFailure(): boolean {
    if (!this.up || ++this.consecutiveConnectFailures < this.passive.consecutiveConnectFailures) return false;
    this.consecutiveConnectFailures = 0;
    this.setUp(false);
    return true;
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.consecutiveConnectFailures = 0;
  }

  setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    if (up) this.ejectedUntil = 0;
    this.onChange();
  }
}
