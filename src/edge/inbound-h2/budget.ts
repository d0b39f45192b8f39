/**
 * A token bucket read only when an event happens (no timer): `burst` events
 * at once, refilled at `perSecond`. take() is false once the budget is spent.
 */
export class Budget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    now: number = performance.now(),
  ) {
    this.tokens = burst;
    this.at = now;
  }

  take(now: number = performance.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
