import type { EdgeContext } from '../context.js';
import { type RespondNeeds, respondJson } from '../outbound/respond.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, DONE } from '../stage.js';

/** What this stage reads from the runtime. */
type Needs = RespondNeeds & Pick<EdgeRuntime, 'healthDocument'>;

/** `/meridian/health` answers on the data port for any Host: peers and the witness probe it. */
export const meridianPaths = (ctx: EdgeContext, rt: Needs): number => {
  const url = ctx.x.target;
  if (url.length < 9 || !url.startsWith('/meridian/')) return CONTINUE;
  if (url === '/meridian/health' || url.startsWith('/meridian/health?')) {
    ctx.outcome = 'served';
    respondJson(ctx, rt, 200, rt.healthDocument());
    return DONE;
  }
  return CONTINUE;
};
