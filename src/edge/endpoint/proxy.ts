import type { EdgeContext } from '../context.js';
import type { Origin } from '../origins/origin.js';
import { respondError } from '../outbound/respond.js';
import type { Outcome } from '../outcome.js';
import type { EdgeRuntime } from '../runtime.js';
import { holdChunkedBody } from './hold-chunked.js';
import { carriesIdempotencyKey } from './idempotency-key.js';
import { type AttemptOwner, type FailureKind, UpstreamAttempt } from './upstream.js';

/**
 * The endpoint: acts on the route the inbound stages chose. Local: an origin
 * of this region (power of two choices); when none is up the request fails
 * over to the next region at once (nothing was sent, so any method may).
 * Remote: the target region's edge, marked with the hop header.
 */
export function proxy(ctx: EdgeContext, rt: EdgeRuntime): void {
  // The retry budget is a share of the requests that reach the endpoint.
  rt.budget.recordRequest();
  ctx.retrySafe =
    ctx.service!.idempotent.has(ctx.x.method) ||
    carriesIdempotencyKey(ctx.upstreamHeaders, rt.config.edge.retry.idempotencyKeyHeader);
  if (shouldBuffer(ctx, rt)) {
    bufferBody(ctx, () => dispatchFirst(ctx, rt));
    return;
  }
  if (ctx.hasBody && ctx.contentLength < 0) {
    holdChunkedBody(ctx, rt.config.edge.retry.bufferBodyBytes, () => dispatchFirst(ctx, rt));
    return;
  }
  dispatchFirst(ctx, rt);
}

function dispatchFirst(ctx: EdgeContext, rt: EdgeRuntime): void {
  if (ctx.route === 'remote') sendToPeer(ctx, rt, ctx.target, 'proxied');
  else sendLocal(ctx, rt);
}

/** A small body of a retry-safe request is read first, so a failed attempt can be retried elsewhere. */
function shouldBuffer(ctx: EdgeContext, rt: EdgeRuntime): boolean {
  return (
    ctx.hasBody &&
    !ctx.hop &&
    ctx.contentLength > 0 &&
    ctx.contentLength <= rt.config.edge.retry.bufferBodyBytes &&
    ctx.retrySafe
  );
}

function bufferBody(ctx: EdgeContext, then: () => void): void {
  const chunks: Buffer[] = [];
  const req = ctx.x.body!;
  req.on('data', (c: Buffer) => chunks.push(c));
  req.once('end', () => {
    if (ctx.finished) return;
    ctx.bufferedBody = Buffer.concat(chunks);
    then();
  });
}

function sendLocal(ctx: EdgeContext, rt: EdgeRuntime): void {
  const origin = ctx.service!.origins?.pick(Date.now()) ?? null;
  if (origin !== null) sendToOrigin(ctx, rt, origin);
  else if (!failOver(ctx, rt)) {
    ctx.outcome = 'failed';
    respondError(ctx, rt, 'UPSTREAM_UNAVAILABLE', `no origin of ${ctx.service!.name} is up in ${rt.region}`);
  }
}

function sendToOrigin(ctx: EdgeContext, rt: EdgeRuntime, origin: Origin): void {
  if (ctx.slot === 'forward') {
    ctx.service!.limiter.moveToLocal();
    ctx.slot = 'local';
  }
  new UpstreamAttempt(ctx, rt, rt.region, origin, origin.url, owner).start(
    origin.upstream,
    ctx.upstreamHeaders,
  );
}

/**
 * Nothing was sent (no local origin is up, or the last one refused the
 * connection): the next region takes the request, whatever its method, outside
 * the retry budget. False when no region can, or without a peer key (the
 * next region would not believe the hop: its decide() sends the client back).
 */
function failOver(ctx: EdgeContext, rt: EdgeRuntime): boolean {
  const region = ctx.hop || ctx.finished || !rt.peerAuth.enabled ? null : nextRegion(ctx, rt);
  if (region === null) return false;
  sendToPeer(ctx, rt, region, 'failover');
  return true;
}

function sendToPeer(ctx: EdgeContext, rt: EdgeRuntime, region: string, outcome: Outcome): void {
  const peer = rt.peers.byRegion.get(region)!;
  ctx.outcome = outcome;
  // The peer edge admits it; holding a local slot meanwhile would shed this region's users
  // while its origins are dying (every request fails over until the region is declared DOWN).
  if (ctx.slot === 'local') {
    ctx.service!.limiter.moveToForward();
    ctx.slot = 'forward';
  }
  new UpstreamAttempt(ctx, rt, region, null, peer.url, owner).start(
    peer.upstream,
    // Signed with the peer key, so the receiving edge believes the hop and serves it there.
    ctx.upstreamHeaders.concat(rt.peerAuth.hopHeaders(ctx.x.method, ctx.x.target, ctx.host)),
  );
}

/** The next region to try: decide()'s order, skipping this one, tried ones and unusable peers. */
function nextRegion(ctx: EdgeContext, rt: EdgeRuntime): string | null {
  const candidates = ctx.decision?.candidates;
  if (candidates === undefined) return null;
  for (const c of candidates) {
    if (c.region === rt.region) continue;
    if (ctx.attempts?.some((a) => a.region === c.region)) continue;
    if (rt.peers.usable(c.region, rt.snapshot) !== null) return c.region;
  }
  return null;
}

function mayRetryElsewhere(ctx: EdgeContext): boolean {
  return !ctx.hop && (!ctx.hasBody || ctx.bufferedBody !== null) && !ctx.finished && ctx.retrySafe;
}

const triedRegion = (ctx: EdgeContext, pred: (region: string) => boolean) =>
  ctx.attempts?.some((a) => pred(a.region)) === true;

/** Where a failed attempt may be retried: once in another region, or locally after the home edge failed. */
function nextStep(ctx: EdgeContext, rt: EdgeRuntime, attempt: UpstreamAttempt): string | null {
  if (!mayRetryElsewhere(ctx)) return null;
  if (attempt.origin !== null) {
    // Without a peer key the other region would not believe the hop and would send the request back.
    if (!rt.peerAuth.enabled || triedRegion(ctx, (r) => r !== rt.region)) return null;
    return nextRegion(ctx, rt);
  }
  if (ctx.route === 'remote' && !triedRegion(ctx, (r) => r === rt.region)) {
    if (ctx.service!.origins?.pick(Date.now()) != null) return rt.region;
  }
  return null;
}

/**
 * The connection was never made (refused, timed out, TLS handshake failed),
 * so no byte of the request left this edge and a streamed body is still
 * unread: any method may go elsewhere, outside the retry budget (the failed
 * attempt cost the upstream nothing). An origin: another local origin (once),
 * else the next region. A peer edge: this region's origins when the request
 * was on its way out of here, else the next region.
 */
function sendElsewhere(ctx: EdgeContext, rt: EdgeRuntime, attempt: UpstreamAttempt): boolean {
  if (ctx.finished) return false;
  if (attempt.origin !== null) {
    const other =
      (ctx.attempts?.length ?? 0) < 2 ? ctx.service!.origins!.pick(Date.now(), attempt.origin) : null;
    if (other !== null) {
      sendToOrigin(ctx, rt, other);
      return true;
    }
    return failOver(ctx, rt);
  }
  if (ctx.route === 'remote' && !triedRegion(ctx, (r) => r === rt.region)) {
    const origin = ctx.service!.origins?.pick(Date.now()) ?? null;
    if (origin !== null) {
      ctx.outcome = 'retried';
      sendToOrigin(ctx, rt, origin);
      return true;
    }
  }
  return failOver(ctx, rt);
}

/** Takes a cross-region retry from the budget, counting both outcomes. */
function takeRetry(rt: EdgeRuntime): boolean {
  if (rt.budget.tryRetry()) {
    rt.stats.retries++;
    return true;
  }
  rt.stats.retriesDenied++;
  return false;
}

const owner: AttemptOwner = {
  wouldRetry(ctx, rt, attempt) {
    if (nextStep(ctx, rt, attempt) === null) return false;
    if (rt.budget.left() >= 1) return true;
    rt.stats.retriesDenied++;
    return false;
  },

  failed(ctx: EdgeContext, rt: EdgeRuntime, attempt: UpstreamAttempt, kind: FailureKind) {
    if (kind === 'connect' && sendElsewhere(ctx, rt, attempt)) return;
    const step = nextStep(ctx, rt, attempt);
    if (step !== null && takeRetry(rt)) {
      ctx.outcome = 'retried';
      if (step === rt.region) {
        sendLocal(ctx, rt);
        return;
      }
      sendToPeer(ctx, rt, step, 'retried');
      return;
    }
    ctx.outcome = 'failed';
    if (kind === 'status') {
      respondError(
        ctx,
        rt,
        'UPSTREAM_UNAVAILABLE',
        `upstream answered ${attempt.status}`,
        false,
        attempt.status,
      );
    } else if (kind === 'timeout') {
      respondError(ctx, rt, 'UPSTREAM_TIMEOUT', `${attempt.label} did not answer in time`);
    } else {
      respondError(ctx, rt, 'UPSTREAM_UNAVAILABLE', `${attempt.label}: ${kind} error`);
    }
  },
};
