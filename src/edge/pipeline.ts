import type { EdgeContext } from './context.js';
import { proxy } from './endpoint/proxy.js';
import { fault } from './inbound/fault.js';
import { meridianPaths } from './inbound/meridian-paths.js';
import { requestHead } from './inbound/request-head.js';
import { route } from './inbound/route.js';
import { selectService } from './inbound/service.js';
import { shed } from './inbound/shed.js';
import type { EdgeRuntime } from './runtime.js';
import { CONTINUE, type Stage } from './stage.js';
import { tunnelEndpoint } from './tunnel/endpoint.js';

/** Inbound stages in order (data, as CoreDNS's plugin.cfg); then the proxy endpoint, or the tunnel's for an Upgrade. */
export const INBOUND: readonly Stage[] = [fault, requestHead, meridianPaths, selectService, route, shed];

export function run(ctx: EdgeContext, rt: EdgeRuntime): void {
  while (ctx.stage < INBOUND.length) {
    const verdict = INBOUND[ctx.stage++](ctx, rt);
    if (verdict !== CONTINUE) return;
  }
  if (ctx.upgrade !== null) tunnelEndpoint(ctx, rt);
  else proxy(ctx, rt);
}
