import { probeHealth } from '../feed/control-instances.js';

export interface LeaderSample {
  t: number;
  /** URL of the instance that says it leads, null when none does (or none answers). */
  leader: string | null;
}

/**
 * Asks every control instance's public GET /v1/health, about four times a
 * second, which one leads: the leader's changes over the run.
 */
export class LeaderWatch {
  /** Only the samples where the answer changed. */
  readonly timeline: LeaderSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly urls: readonly string[],
    private readonly clock: () => number,
  ) {}

  start(intervalMs = 250): void {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  private async poll() {
    if (this.busy) return;
    this.busy = true;
    try {
      const t = this.clock();
      const answers = await Promise.all(this.urls.map((u) => probeHealth(u, 500)));
      const leader = answers.find((a) => a?.isLeader)?.url ?? null;
      if (this.timeline.at(-1)?.leader !== leader || this.timeline.length === 0)
        this.timeline.push({ t, leader });
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Times a different instance took the lead (the first election is not a change; a gap with none is not one). */
  changes(): number {
    let last: string | null = null;
    let changes = 0;
    for (const s of this.timeline) {
      if (s.leader === null) continue;
      if (last !== null && s.leader !== last) changes++;
      last = s.leader;
    }
    return changes;
  }

  /** The instance leading at time t (ms since start), null if none. */
  leaderAt(t: number): string | null {
    let leader: string | null = null;
    for (const s of this.timeline) if (s.t <= t) leader = s.leader;
    return leader;
  }
}
