import type { EdgeContext } from '../context.js';
import { type RespondNeeds, respondError } from '../outbound/respond.js';
import { NORMAL, PRIORITY_BY_NAME } from '../priority.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, DONE } from '../stage.js';

/** What this stage reads from the runtime. */
type Needs = RespondNeeds & Pick<EdgeRuntime, 'stats'>;

/**
 * Admission without a queue: the priority class comes from the header, else
 * the first matching route rule, else normal. Best-effort may fill only part
 * of the adaptive limit, so it is shed first; critical may use the hard cap.
 * A request routed to another region's edge is admitted there, not here.
 */
export const shed = (ctx: EdgeContext, rt: Needs): number => {
  const service = ctx.service!;
  let priority = ctx.priorityHeader !== undefined ? PRIORITY_BY_NAME.get(ctx.priorityHeader) : undefined;
  if (priority === undefined) {
    priority = NORMAL;
    const url = ctx.x.target;
    for (const rule of service.priorities) {
      if (url.startsWith(rule.pathPrefix)) {
        priority = rule.priority;
        break;
      }
    }
  }
  ctx.priority = priority;
  const forward = ctx.route === 'remote';
  if (forward ? !service.limiter.tryForward() : !service.limiter.tryAcquire(priority)) {
    ctx.outcome = 'shed';
    rt.stats.countShed(service.name);
    respondError(ctx, rt, 'OVERLOADED', `${service.name} is at its concurrency limit`);
    return DONE;
  }
  ctx.slot = forward ? 'forward' : 'local';
  return CONTINUE;
};
