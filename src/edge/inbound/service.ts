import type { EdgeContext } from '../context.js';
import { respondError } from '../outbound/respond.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, DONE, type Stage } from '../stage.js';

/** Host -> service. An unknown Host is not ours to proxy: 421 Misdirected Request. */
export const selectService: Stage = (ctx: EdgeContext, rt: EdgeRuntime) => {
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
