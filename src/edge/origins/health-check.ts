import type { HealthCheckConfig } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { probe } from '../upstream/probe.js';
import type { Origin } from './origin.js';

/**
 * Active health checks: GET `path` every `interval`; `fall` failures in a row
 * mark an origin down, `rise` successes bring it back. A check that has not
 * answered by `timeout` is a failure.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly streak = new Map<Origin, number>();
  private readonly running = new Set<Origin>();
  private closed = false;
  private readonly probed = new Set<Origin>();
  /** True once every origin has been checked at least once (readiness). */
  firstRoundDone = false;

  constructor(
    private readonly origins: readonly Origin[],
    private readonly check: HealthCheckConfig,
    private readonly log: Logger,
    private readonly onChange: () => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => this.runAll(), this.check.interval);
    this.timer.unref();
    this.runAll();
  }

  private runAll(): void {
    for (const o of this.origins) if (!this.running.has(o)) void this.probe(o);
  }

  private async probe(o: Origin): Promise<void> {
    this.running.add(o);
    const status = await probe(o.upstream, this.check.path, this.check.timeout);
    const ok = status >= 200 && status < 400;
    this.running.delete(o);
    if (this.closed) return;
    this.probed.add(o);
    if (this.probed.size >= this.origins.length) this.firstRoundDone = true;
    this.record(o, ok);
  }

  private record(o: Origin, ok: boolean): void {
    // Positive streak counts successes, negative counts failures.
    const prev = this.streak.get(o) ?? 0;
    const streak = ok ? Math.max(0, prev) + 1 : Math.min(0, prev) - 1;
    this.streak.set(o, streak);
    if (o.up && streak <= -this.check.fall) {
      o.setUp(false);
      this.log.warn({ origin: o.url, region: o.region }, 'origin down (active check)');
      this.onChange();
    } else if (!o.up && streak >= this.check.rise) {
      o.setUp(true);
      this.log.info({ origin: o.url, region: o.region }, 'origin up (active check)');
      this.onChange();
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }
}
