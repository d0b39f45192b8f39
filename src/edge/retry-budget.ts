// Finagle-style retry budget: retries may be at most `percent` of the
// requests seen over a sliding window, plus a small floor per second so a
// quiet edge can still retry. Stops a failing region from doubling load.

const SLOTS = 10;

export interface RetryBudgetOptions {
  percent: number;
  windowMs: number;
  minPerSecond: number;
}

export class RetryBudget {
  private readonly requests = new Float64Array(SLOTS);
  private readonly retries = new Float64Array(SLOTS);
  private slot = 0;
  private slotStart = 0;
  private readonly slotMs: number;

  constructor(
    private readonly options: RetryBudgetOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.slotMs = Math.max(1, options.windowMs / SLOTS);
    this.slotStart = now();
  }

  private advance(): void {
    const t = this.now();
    let steps = Math.floor((t - this.slotStart) / this.slotMs);
    if (steps <= 0) return;
    this.slotStart += steps * this.slotMs;
    if (steps > SLOTS) steps = SLOTS;
    while (steps-- > 0) {
      this.slot = (this.slot + 1) % SLOTS;
      this.requests[this.slot] = 0;
      this.retries[this.slot] = 0;
    }
  }

  recordRequest(): void {
    this.advance();
    this.requests[this.slot]++;
  }

  /** How many more retries the window allows now. */
  left(): number {
    this.advance();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < SLOTS; i++) {
      requests += this.requests[i];
      retries += this.retries[i];
    }
    const floor = (this.options.minPerSecond * this.options.windowMs) / 1000;
    return Math.max(0, Math.floor((requests * this.options.percent) / 100 + floor - retries));
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean {
    if (this.left() < 1) return false;
    this.retries[this.slot]++;
    return true;
  }
}
