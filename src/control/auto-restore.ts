import type { MeridianConfig } from '../config/index.js';
import { dueRestores, ended } from '../core/operations/index.js';
import type { Logger } from '../log.js';
import { rememberFailedOver } from './operation-plan.js';
import type { Operations } from './operations.js';
import type { StateKeeper } from './state.js';
import type { ControlState } from './store/index.js';

type RegionDraft = ControlState['snapshot']['regions'][number];

/**
 * A region just declared DOWN: its dial goes to 0 in the same commit, and a
 * running operation that moves it stops (it would set the dial again). When
 * control itself takes the dial away, the region is remembered with the dial
 * it had, so it comes back by itself once HEALTHY: unless an operator (or
 * another of control's own moves, an outlier's evacuation) was moving it, since a dial an operator set is never restored automatically
 * (nor with autoRestore disabled: `remember` false). Returns what changed, for the health audit entry.
 */
export function failOver(
  draft: ControlState,
  r: RegionDraft,
  now: number,
  remember = true,
): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  const op = draft.operation;
  const moving = op?.status === 'running' && op.region === r.id ? op : null;
  if (moving) {
    draft.operation = ended(moving, 'aborted', `aborted: ${r.id} went DOWN at dial ${r.dial}; dial 0`, now);
    details.aborted = moving.id;
  }
  // Still remembered from an automatic restore that gave up on its gates: the
  // same target, tried afresh once the region recovers from this DOWN.
  const earlier = (draft.failedOver ?? []).find((f) => f.region === r.id);
  if (r.dial === 0 && !earlier) return details;
  const restoreTo = moving ? (moving.failover ? moving.steps.at(-1)! : null) : (earlier?.dial ?? r.dial);
  if (restoreTo !== null && remember) {
    rememberFailedOver(draft, { region: r.id, dial: restoreTo, at: now });
    details.restoreTo = restoreTo;
  }
  if (r.dial === 0) return details;
  details.dial = { from: r.dial, to: 0 };
  r.dial = 0;
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
