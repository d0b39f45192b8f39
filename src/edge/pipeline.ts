import { EdgeContext } from './context.js';
import { proxy } from './endpoint/proxy.js';
import type { ClientExchange } from './exchange/client-exchange.js';
import { fault } from './inbound/fault.js';
import { meridianPaths } from './inbound/meridian-paths.js';
import { requestHead } from './inbound/request-head.js';
import { route } from './inbound/route.js';
import { selectService } from './inbound/service.js';
import { shed } from './inbound/shed.js';
import { finish } from './outbound/finish.js';
import { respondError } from './outbound/respond.js';
import type { EdgeRuntime } from './runtime.js';
import { CONTINUE, type Resume, type Stage } from './stage.js';
import { tunnelEndpoint } from './tunnel/endpoint.js';

/** Inbound stages in order (data, as CoreDNS's plugin.cfg); then the proxy endpoint, or the tunnel's for an Upgrade. */
export const INBOUND: readonly Stage[] = [fault, requestHead, meridianPaths, selectService, route, shed];

/** Runs requests from any listener (or edge.request()): inbound stages -> endpoint -> outbound. */
export class Pipeline {
  /** Given to stages, so one that paused goes on from where it stopped. */
  private readonly resume: Resume = (ctx) => this.run(ctx);

  constructor(private readonly rt: EdgeRuntime) {}

  readonly serve = (x: ClientExchange): void => {
    const rt = this.rt;
    const ctx = new EdgeContext(x, performance.now());
    rt.stats.inFlight++;
    rt.opened(x);
    x.onClose(() => {
      rt.closed(x);
      finish(ctx, rt);
    });
    try {
      this.run(ctx);
    } catch (e) {
      rt.log.error({ err: e }, 'edge pipeline failed');
      ctx.outcome = 'failed';
      respondError(ctx, rt, 'INTERNAL', 'internal error');
    }
  };

  private run(ctx: EdgeContext): void {
    while (ctx.stage < INBOUND.length) {
      const verdict = INBOUND[ctx.stage++](ctx, this.rt, this.resume);
      if (verdict !== CONTINUE) return;
    }
    // An Upgrade the listener can hand over (x.upgrade) goes to the tunnel endpoint, which may fall back to proxy.
    if (ctx.upgrade !== null) tunnelEndpoint(ctx, this.rt);
    else proxy(ctx, this.rt);
  }
}
