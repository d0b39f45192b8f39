import type { EdgeContext } from '../context.js';
import { type RespondNeeds, respondError } from '../outbound/respond.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, PAUSED, type Resume } from '../stage.js';

/** What this stage reads from the runtime. */
type Needs = RespondNeeds & Pick<EdgeRuntime, 'faultSettings' | 'faultActive' | 'holdBlackholed'>;

/**
 * Drill faults, off unless set on the admin port: black-hole (the request is
 * never answered, as if the region vanished), a share of failures, or added latency.
 */
export const fault = (ctx: EdgeContext, rt: Needs, resume: Resume): number => {
  const f = rt.faultSettings;
  if (!rt.faultActive || ctx.stage > 1) return CONTINUE;
  if (f.blackhole) {
    ctx.outcome = 'fault';
    rt.holdBlackholed(ctx.x);
    return PAUSED;
  }
  if (f.errorRate > 0 && Math.random() < f.errorRate) {
    ctx.outcome = 'fault';
    respondError(ctx, rt, 'UPSTREAM_UNAVAILABLE', 'fault injected by a drill');
    return PAUSED;
  }
  if (f.latencyMs > 0) {
    setTimeout(() => {
      if (!ctx.finished) resume(ctx);
    }, f.latencyMs).unref();
    return PAUSED;
  }
  return CONTINUE;
};
