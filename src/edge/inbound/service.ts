import type { EdgeContext } from '../context.js';
import { type RespondNeeds, respondError } from '../outbound/respond.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, DONE } from '../stage.js';

/** What this stage reads from the runtime. */
type Needs = RespondNeeds & Pick<EdgeRuntime, 'services'>;

/** Host -> service. An unknown Host is not ours to proxy: 421 Misdirected Request. */
export const selectService = (ctx: EdgeContext, rt: Needs): number => {
  let host = ctx.host;
  const colon = host.lastIndexOf(':');
  if (colon > 0 && host.indexOf(']', colon) < 0) host = host.slice(0, colon);
  const service = rt.services.get(host) ?? rt.services.get(host.toLowerCase().replace(/\.$/, ''));
  if (service === undefined) {
    ctx.outcome = 'rejected';
    respondError(ctx, rt, 'UNKNOWN_SERVICE', `no service is served at ${host}`, false, 421);
    return DONE;
  }
  ctx.service = service;
  return CONTINUE;
};
