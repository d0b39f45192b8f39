import { Origin, type PassiveHealthOptions, type UpstreamOptions } from './origin.js';

/**
 * A region's origins for one service. Picks with the power of two choices
 * over requests in flight; passive ejection never takes out more than
 * `maxEjectedPercent` of the pool at once.
 */
export class OriginSet {
  readonly origins: Origin[];
  private available: Origin[] = [];
  /** Earliest time an ejection ends; the list is recomputed then. */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(
    urls: readonly string[],
    region: string,
    upstream: UpstreamOptions,
    passive: PassiveHealthOptions,
    private readonly maxEjectedPercent: number,
  ) {
    this.origins = urls.map(
      (u) => new Origin(u, region, upstream, passive, () => this.recompute(Date.now())),
    );
    this.recompute(Date.now());
  }

  private recompute(now: number): void {
    this.available = this.origins.filter((o) => o.up && !o.isEjected(now));
    let next = Number.POSITIVE_INFINITY;
    for (const o of this.origins) if (o.isEjected(now) && o.ejectedUntil < next) next = o.ejectedUntil;
    this.nextExpiry = next;
  }

  /** An origin to send to, or null when every origin is down or ejected. `avoid` is skipped if possible. */
  pick(now: number, avoid?: Origin): Origin | null {
    if (now >= this.nextExpiry) this.recompute(now);
    const list = this.available;
    const n = list.length;
    if (n === 0) return null;
    if (n === 1) return list[0] === avoid ? null : list[0];
    let a = list[(Math.random() * n) | 0];
    let b = list[(Math.random() * n) | 0];
    if (a === avoid) a = b;
    if (b === avoid) b = a;
    if (a === avoid) {
      for (const o of list) if (o !== avoid) return o;
      return null;
    }
    return b.inFlight < a.inFlight ? b : a;
  }

  /** Whether one more origin may be ejected without passing the cap. */
  mayEject = (now: number): boolean => {
    let ejected = 0;
    for (const o of this.origins) if (o.isEjected(now)) ejected++;
    return ((ejected + 1) * 100) / this.origins.length <= this.maxEjectedPercent;
  };

  upCount(): number {
    return this.available.length;
  }

  async close(): Promise<void> {
    for (const o of this.origins) o.upstream.close();
  }
}
