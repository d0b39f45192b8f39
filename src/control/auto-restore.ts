import type { MeridianConfig } from '../config/index.js';
import { dueRestores, failOverRegion } from '../core/operations/index.js';
import type { Logger } from '../log.js';
import { rememberFailedOver } from './operation-plan.js';
import type { Operations } from './operations.js';
import type { StateKeeper } from './state.js';
import type { ControlState } from './store/index.js';

type RegionDraft = ControlState['snapshot']['regions'][number];

/**
 * A region just declared DOWN, in the health commit: the core's failOverRegion
 * applied to the draft. Returns what changed, for the health audit entry.
 */
export function failOver(
  draft: ControlState,
  r: RegionDraft,
  now: number,
  remember = true,
): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  const out = failOverRegion(r, draft.operation, draft.failedOver ?? [], now, remember);
  if (out.aborted) {
    draft.operation = out.operation;
    details.aborted = out.operation!.id;
  }
  if (out.remember) {
    rememberFailedOver(draft, out.remember);
    details.restoreTo = out.remember.dial;
  }
  if (r.dial !== out.dial) {
    details.dial = { from: r.dial, to: out.dial };
    r.dial = out.dial;
  }
  return details;
}

/**
 * On the leader: starts the automatic restore of a failed-over region once it
 * is HEALTHY again (the health state machine's riseAfter is the hysteresis),
 * through the same operation machinery as `meridian restore`. A refused
 * pre-check (headroom, RPO) is retried every few seconds and shown in status.
 */
export class AutoRestore {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly waiting = new Map<string, { until: number; why: string }>();

  constructor(
    private readonly config: MeridianConfig,
    private readonly keeper: StateKeeper,
    private readonly operations: Operations,
    private readonly log: Logger,
    private readonly isLeader: () => boolean,
    private readonly retryMs = 2000,
  ) {}

  get enabled() {
    return this.config.control.autoRestore.enabled;
  }

  start() {
    if (!this.enabled) return;
    this.timer = setInterval(() => void this.check(Date.now()), 250);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  /** What status shows for a region control will restore by itself; null when it will not. */
  pending(region: string): string | null {
    if (!this.enabled) return null;
    const mark = (this.keeper.current().failedOver ?? []).find((f) => f.region === region);
    if (!mark) return null;
    if ((mark.retryAt ?? 0) > Date.now())
      return `dial ${mark.dial} comes back automatically: gates failed, next try at ${new Date(mark.retryAt!).toISOString()}`;
    const why = this.waiting.get(region)?.why;
    return `dial ${mark.dial} comes back automatically once HEALTHY${why ? ` (waiting: ${why})` : ''}`;
  }

  /** One look; exported for tests that drive time themselves. */
  async check(now: number): Promise<void> {
    if (this.checking || !this.isLeader()) return;
    this.checking = true;
    try {
      const state = this.keeper.current();
      if (state.operation?.status === 'running') return;
      const notBefore = new Map([...this.waiting].map(([region, w]) => [region, w.until]));
      for (const mark of dueRestores(state.failedOver ?? [], this.keeper.snapshot(), now, notBefore)) {
        try {
          const { operation } = await this.operations.startAuto(mark);
          this.waiting.delete(mark.region);
          this.log.info({ region: mark.region, operation: operation?.id }, 'automatic restore started');
          return;
        } catch (e) {
          const why = (e as Error).message;
          if (this.waiting.get(mark.region)?.why !== why)
            this.log.warn({ region: mark.region, err: why }, 'automatic restore not started yet');
          this.waiting.set(mark.region, { until: now + this.retryMs, why });
        }
      }
    } finally {
      this.checking = false;
    }
  }
}
