import type { EdgeContext } from '../context.js';
import { proxy } from '../endpoint/proxy.js';
import type { FailureKind } from '../endpoint/upstream.js';
import type { Origin } from '../origins/origin.js';
import { respondError } from '../outbound/respond.js';
import type { EdgeRuntime } from '../runtime.js';
import { Handshake, type HandshakeOwner, type TunnelTarget } from './handshake.js';
import { protocolNames } from './switch-head.js';

/**
 * Protocols never tunnelled. h2c through a proxy lets a client speak HTTP/2
 * straight to the origin on one connection, past every per-request check of
 * the edge ("h2c smuggling"); such a request is served as plain HTTP/1.1
 * with the Upgrade dropped, as nginx does.
 */
const NOT_TUNNELLED = new Set(['h2c', 'h2']);

/**
 * The endpoint of a request that asks to switch protocols (Upgrade), after
 * the same inbound stages as any request: the route stage chose this
 * region's origins or the home region's edge (the isthmus). See handshake.ts.
 */
export function tunnelEndpoint(ctx: EdgeContext, rt: EdgeRuntime): void {
  const names = protocolNames(ctx.upgrade!.protocols);
  if (ctx.hasBody) {
    // Node's parser stops at the head of an upgrade: a body would reach the origin unframed.
    ctx.outcome = 'rejected';
    respondError(ctx, rt, 'BAD_REQUEST', 'a request asking to switch protocols must not carry a body', true);
    return;
  }
  if (names.length === 0 || names.some((n) => NOT_TUNNELLED.has(n))) {
    ctx.upgrade = null;
    proxy(ctx, rt);
    return;
  }
  if (rt.draining) {
    ctx.outcome = 'shed';
    respondError(ctx, rt, 'OVERLOADED', 'this edge is shutting down; connect again', true);
    return;
  }
  if (ctx.route === 'remote') toPeer(ctx, rt, ctx.target);
  else toOrigin(ctx, rt, null);
}

const upgradeHeaders = (ctx: EdgeContext) => ['connection', 'upgrade', 'upgrade', ctx.upgrade!.protocols];

function toOrigin(ctx: EdgeContext, rt: EdgeRuntime, avoid: Origin | null): void {
  const origin = ctx.service!.origins?.pick(Date.now(), avoid ?? undefined) ?? null;
  if (origin === null || origin === avoid) {
    ctx.outcome = 'failed';
    respondError(ctx, rt, 'UPSTREAM_UNAVAILABLE', `no origin of ${ctx.service!.name} is up in ${rt.region}`);
    return;
  }
  if (ctx.slot === 'forward') {
    ctx.service!.limiter.moveToLocal();
    ctx.slot = 'local';
  }
  const target = { region: rt.region, origin, pool: origin.upstream, label: origin.url };
  new Handshake(ctx, rt, target, ctx.upstreamHeaders.concat(upgradeHeaders(ctx)), owner);
}

function toPeer(ctx: EdgeContext, rt: EdgeRuntime, region: string): void {
  const peer = rt.peers.byRegion.get(region)!;
  ctx.outcome = 'proxied';
  // Signed with the peer key, so the home edge believes the hop and opens the tunnel there.
  const headers = ctx.upstreamHeaders.concat(
    upgradeHeaders(ctx),
    rt.peerAuth.hopHeaders(ctx.x.method, ctx.x.target, ctx.host),
  );
  const target: TunnelTarget = { region, origin: null, pool: peer.upstream, label: peer.url };
  new Handshake(ctx, rt, target, headers, owner);
}

const owner: HandshakeOwner = {
  failed(ctx: EdgeContext, rt: EdgeRuntime, target: TunnelTarget, kind: FailureKind) {
    // Nothing was sent: another origin (once), or this region's origins when the home edge refused.
    if (kind === 'connect' && (ctx.attempts?.length ?? 0) < 2) {
      if (target.origin !== null) return toOrigin(ctx, rt, target.origin);
      if (ctx.service!.origins?.pick(Date.now()) != null) {
        ctx.outcome = 'retried';
        return toOrigin(ctx, rt, null);
      }
    }
    ctx.outcome = 'failed';
    if (kind === 'timeout')
      respondError(ctx, rt, 'UPSTREAM_TIMEOUT', `${target.label} did not answer in time`);
    else respondError(ctx, rt, 'UPSTREAM_UNAVAILABLE', `${target.label}: ${kind} error`);
  },
};
