import type { EdgeContext } from '../context.js';
import { type RespondNeeds, redirect, respondError } from '../outbound/respond.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, DONE } from '../stage.js';
import { remoteTarget } from './remote-target.js';

/** What this stage reads from the runtime. */
type Needs = RespondNeeds & Pick<EdgeRuntime, 'snapshot' | 'locator' | 'peers' | 'stats' | 'edgeUrls'>;

/**
 * The routing decision; it only annotates the context. decide() for the
 * client: home here -> local; home elsewhere (stale DNS, evacuation, dial
 * spill at the same subnet hash as DNS) -> that region's edge, by proxy or
 * redirect per service. A target that is unreachable, DOWN or PARTITIONED
 * means failover: serve locally. A request that already crossed a region
 * (x-meridian-hop) is always served here, which stops loops. A starting
 * edge whose first probe of a peer is not in yet bridges to it all the same
 * (a connection that is never made is served here): a client homed
 * elsewhere is neither served here by mistake nor refused. A 503 "starting"
 * failed a user in CI's three-region kong run, where the restarted edge's
 * probes took longer than its first requests.
 */
export const route = (ctx: EdgeContext, rt: Needs): number => {
  if (ctx.hop) {
    ctx.route = 'local';
    return CONTINUE;
  }
  const snapshot = rt.snapshot;
  const info = rt.locator.connectionInfo(ctx.x);
  const decision = rt.locator.decisionFor(info, ctx.clientIp, snapshot);
  ctx.decision = decision;
  rt.stats.countDemand(decision.home);
  if (decision.shed) {
    ctx.outcome = 'shed';
    respondError(ctx, rt, 'OVERLOADED', 'no region has headroom for this client');
    return DONE;
  }
  const first = remoteTarget(decision, rt, snapshot);
  if (first === null) {
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
