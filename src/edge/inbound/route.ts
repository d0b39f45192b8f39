import type { EdgeContext } from '../context.js';
import { redirect, respondError } from '../outbound/respond.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, DONE, type Stage } from '../stage.js';

/**
 * The routing decision; it only annotates the context. decide() for the
 * client: home here -> local; home elsewhere (stale DNS, evacuation, dial
 * spill at the same subnet hash as DNS) -> that region's edge, by proxy or
 * redirect per service. A target that is unreachable, DOWN or PARTITIONED
 * means failover: serve locally. A request that already crossed a region
 * (x-meridian-hop) is always served here, which stops loops. Until the
 * edge's first snapshot, origin checks and peer probes are in, a client
 * homed elsewhere is bridged only to a peer a probe has reached, else told
 * to retry (503): never served here by mistake.
 */
export const route: Stage = (ctx: EdgeContext, rt: EdgeRuntime) => {
  if (ctx.hop) {
    ctx.route = 'local';
    return CONTINUE;
  }
  const snapshot = rt.snapshot;
  const info = rt.locator.socketInfo(ctx.req.socket);
  const decision = rt.locator.decisionFor(info, ctx.clientIp, snapshot);
  ctx.decision = decision;
  rt.stats.countDemand(decision.home);
  if (decision.shed) {
    ctx.outcome = 'shed';
    respondError(ctx, rt, 'OVERLOADED', 'no region has headroom for this client');
    return DONE;
  }
  const first = decision.candidates[0]?.region;
  if (first !== undefined && first !== rt.region && !rt.started) {
    const peer = rt.peers.usable(first, snapshot);
    if (peer === null || peer.okAt === 0) {
      ctx.outcome = 'shed';
      respondError(ctx, rt, 'OVERLOADED', 'this edge is starting; retry shortly');
      return DONE;
    }
  }
  if (first === undefined || first === rt.region || rt.peers.usable(first, snapshot) === null) {
    ctx.route = 'local';
    return CONTINUE;
  }
  ctx.target = first;
  if (ctx.service!.config.misrouted === 'redirect') {
    ctx.route = 'redirect';
    ctx.outcome = 'redirected';
    redirect(ctx, rt, first);
    return DONE;
  }
  ctx.route = 'remote';
  return CONTINUE;
};
