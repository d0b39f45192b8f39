import type { EdgeContext } from '../context.js';
import { respondJson } from '../outbound/respond.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, DONE, type Stage } from '../stage.js';

/** `/meridian/health` answers on the data port for any Host: peers and the witness probe it. */
export const meridianPaths: Stage = (ctx: EdgeContext, rt: EdgeRuntime) => {
  const url = ctx.x.target;
  if (url.length < 9 || !url.startsWith('/meridian/')) return CONTINUE;
  if (url === '/meridian/health' || url.startsWith('/meridian/health?')) {
    ctx.outcome = 'served';
    respondJson(ctx, rt, 200, rt.healthDocument());
    return DONE;
  }
  return CONTINUE;
};
