import type { Outcome } from './outcome.js';
import { BEST_EFFORT, CRITICAL } from './priority.js';

export interface LimiterOptions {
  /** Hard cap; critical requests may use all of it. */
  maxInFlight: number;
  adaptive: 'vegas' | 'gradient' | 'off';
  initialLimit: number;
  minLimit: number;
  /** Share of the adaptive limit best-effort requests may fill. */
  bestEffortShare: number;
}

const WINDOW_MS = 250;

/** Only a request answered by this region's origins tells how loaded they are. */
export const feedsLimit = (outcome: Outcome) => outcome === 'served';

/**
 * Admission per service without a queue: a request either gets a slot now
 * or is shed. The adaptive limit follows latency (Vegas: queue estimate from
 * min RTT vs recent RTT; gradient: long-term over short-term RTT), but only
 * in windows whose peak in flight reached half the limit: a lighter load says
 * nothing about where the limit lies (Netflix's concurrency-limits hold it
 * too), and latency noise over an idle floor would walk the limit down to
 * `minLimit`, which the next surge, a failover, then finds shedding.
 */
export class ConcurrencyLimiter {
  inFlight = 0;
  /** Requests on their way to another region's edge; see tryForward. */
  forwarding = 0;
  /** Tunnels (WebSocket) to this region's origins: they hold the hard cap, not the adaptive limit. */
  tunnels = 0;
  limit: number;
  private minRtt = Number.POSITIVE_INFINITY;
  private longRtt = 0;
  private sum = 0;
  private count = 0;
  private windowMin = Number.POSITIVE_INFINITY;
  private windowStart = 0;
  private windowPeak = 0;
  private windows = 0;

  constructor(private readonly o: LimiterOptions) {
    this.limit = o.adaptive === 'off' ? o.maxInFlight : Math.min(o.initialLimit, o.maxInFlight);
  }

  tryAcquire(priority: number): boolean {
    let cap = this.limit;
    if (priority === CRITICAL) cap = this.o.maxInFlight;
    else if (priority === BEST_EFFORT) cap = Math.max(1, Math.floor(this.limit * this.o.bestEffortShare));
    if (this.inFlight >= cap || this.inFlight + this.tunnels >= this.o.maxInFlight) return false;
    this.inFlight++;
    if (this.inFlight > this.windowPeak) this.windowPeak = this.inFlight;
    return true;
  }

  /**
   * A request routed to another region's edge takes no slot of the adaptive
   * limit: that edge admits it against its own origins, and its latency (the
   * link's round trip included) says nothing about this region's origins.
   * Counted here too, an edge whose origins are down would shed the users it
   * bridges to a region with room. Only the hard cap bounds them.
   */
  tryForward(): boolean {
    if (this.forwarding >= this.o.maxInFlight) return false;
    this.forwarding++;
    return true;
  }

  releaseForward(): void {
    this.forwarding--;
  }

  /** An admitted request leaves for another region's edge after all (failover, retry): its slot goes with it. */
  moveToForward(): void {
    this.inFlight--;
    this.forwarding++;
  }

  /** A forwarded request comes back to this region's origins (the peer refused it). */
  moveToLocal(): void {
    this.forwarding--;
    this.inFlight++;
  }

  /**
   * A request became a long-lived tunnel to this region's origins: it leaves
   * the adaptive limit (a slot held for hours would starve it, and its
   * duration says nothing of latency) but still counts against the hard cap
   * (Envoy counts an upgraded stream as an active request the same way).
   */
  moveToTunnel(): void {
    this.inFlight--;
    this.tunnels++;
  }

  closeTunnel(): void {
    this.tunnels--;
  }

  /** Gives the slot back; `rttMs` of a request that reached an origin feeds the limit. */
  release(rttMs: number, now: number, sample: boolean): void {
    this.inFlight--;
    if (!sample || this.o.adaptive === 'off') return;
    this.sum += rttMs;
    this.count++;
    if (rttMs < this.windowMin) this.windowMin = rttMs;
    if (this.windowStart === 0) this.windowStart = now;
    if (now - this.windowStart < WINDOW_MS || this.count < 5) return;
    const rtt = this.sum / this.count;
    // Forget the floor now and then: the origin may have got slower for good.
    if (++this.windows % 120 === 0) this.minRtt = this.windowMin;
    this.minRtt = Math.min(this.minRtt, this.windowMin);
    this.longRtt = this.longRtt === 0 ? rtt : this.longRtt * 0.95 + rtt * 0.05;
    if (this.windowPeak * 2 >= this.limit) {
      if (this.o.adaptive === 'vegas') this.vegas(rtt);
      else this.gradient(rtt);
      this.limit = Math.max(this.o.minLimit, Math.min(this.o.maxInFlight, Math.round(this.limit)));
    }
    this.sum = 0;
    this.count = 0;
    this.windowStart = now;
    this.windowMin = Number.POSITIVE_INFINITY;
    this.windowPeak = this.inFlight;
  }

  private vegas(rtt: number): void {
    const log = Math.max(1, Math.log10(this.limit));
    const queue = this.limit * (1 - this.minRtt / Math.max(rtt, 0.001));
    if (queue < 3 * log) this.limit += log;
    else if (queue > 6 * log) this.limit -= log;
  }

  private gradient(rtt: number): void {
    const gradient = Math.max(0.5, Math.min(1, this.longRtt / rtt));
    this.limit = this.limit * 0.8 + (this.limit * gradient + Math.sqrt(this.limit)) * 0.2;
  }
}
