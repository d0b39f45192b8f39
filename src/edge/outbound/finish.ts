import type { EdgeContext } from '../context.js';
import { feedsLimit } from '../limiter.js';
import type { EdgeRuntime } from '../runtime.js';

/**
 * Runs once per request when the client's response closes (sent in full or
 * cut off): a client that left cancels the upstream attempt, the limiter slot
 * is given back with the latency sample, then metrics and the access log.
 */
export function finish(ctx: EdgeContext, rt: Pick<EdgeRuntime, 'region' | 'stats' | 'accessLog'>): void {
  if (ctx.finished) return;
  ctx.finished = true;
  const now = performance.now();
  const ms = now - ctx.startedAt;
  const x = ctx.x;
  if (!x.finished) {
    if (ctx.outcome !== 'fault') ctx.outcome = 'aborted';
    ctx.current?.cancel();
  }
  const outcome = ctx.outcome;
  if (ctx.slot === 'local') ctx.service!.limiter.release(ms, now, feedsLimit(outcome));
  else if (ctx.slot === 'forward') ctx.service!.limiter.releaseForward();
  const status = x.headersSent ? x.statusCode : 0;
  const serviceName = ctx.service === null ? '-' : ctx.service.name;
  rt.stats.inFlight--;
  rt.stats.countRequest(serviceName, ctx.servedBy || rt.region, status, outcome, ms);
  if (rt.accessLog !== null) {
    rt.accessLog.info({
      method: x.method,
      host: ctx.host,
      path: x.target,
      status,
      ms: Math.round(ms * 10) / 10,
      client: ctx.clientIp,
      service: serviceName,
      route: ctx.route,
      region: ctx.servedBy || rt.region,
      outcome,
      priority: ctx.priority,
      attempts: ctx.attempts ?? [],
    });
  }
}
