import type { EdgeContext } from '../context.js';
import { HOP_BY_HOP } from '../hop-by-hop.js';
import { type RespondNeeds, respondError } from '../outbound/respond.js';
import { HOP_HEADER, INTERNAL_PREFIX, SIGNATURE_HEADER } from '../peer-auth.js';
import type { EdgeRuntime } from '../runtime.js';
import { CONTINUE, DONE } from '../stage.js';

const STANDARD_CONNECTION_TOKENS = new Set(['close', 'keep-alive', 'upgrade']);

/** What this stage reads from the runtime. */
type Needs = RespondNeeds &
  Pick<
    EdgeRuntime,
    'locator' | 'clientAddressHeader' | 'priorityHeader' | 'peerAuth' | 'scheme' | 'viaToken'
  >;

/**
 * Checks the request head and builds the headers to send upstream in one pass
 * over rawHeaders: hop-by-hop and every x-meridian-* header removed,
 * X-Forwarded-* and Via set. x-meridian-* headers count only when a peer
 * edge signed them; the client address is read from trust.header, from
 * trusted proxies only; a request whose Via shows it passed here is a loop. Node's
 * parser already refuses most malformed heads; this repeats the smuggling
 * checks (one body length, chunked only) so a lenient parser can never let
 * an ambiguous request through to an origin.
 */
export const requestHead = (ctx: EdgeContext, rt: Needs): number => {
  const x = ctx.x;
  const url = x.target;
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    return bad(ctx, rt, 'request target must be a path starting with /');
  }
  const raw = x.rawHeaders;
  const out: string[] = [];
  const info = rt.locator.connectionInfo(x);
  let contentLength: string | undefined;
  let hostSeen = false;
  let chunked = false;
  let connectionTokens: string | undefined;
  let xff: string | undefined;
  let proto: string | undefined;
  let fwdHost: string | undefined;
  let via: string | undefined;
  let clientAddress: string | undefined;
  let internal: string[] | null = null;
  let signature: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    const lower = name.toLowerCase();
    if (lower.startsWith(INTERNAL_PREFIX)) {
      // Never forwarded; believed only once a peer's signature over all of them checks out.
      if (lower === SIGNATURE_HEADER) signature = signature === undefined ? value : 'repeated';
      else if (internal === null) internal = [lower, value];
      else internal.push(lower, value);
      if (lower === 'x-meridian-debug') ctx.debugAttempts = value.includes('attempts');
      continue;
    }
    if (lower === rt.clientAddressHeader) {
      clientAddress = clientAddress === undefined ? value : `${clientAddress}, ${value}`;
    }
    switch (lower) {
      case 'host':
        // RFC 9112 3.2: more than one Host is a 400 (routing by one, an origin reading the other).
        if (hostSeen) return bad(ctx, rt, 'more than one Host header');
        hostSeen = true;
        ctx.host = value;
        break;
      case 'transfer_encoding':
      case 'content_length':
        // CGI-style back ends fold '_' and '-' into one variable: a second framing header in disguise.
        return bad(ctx, rt, `"${name}" looks like a body framing header`);
      case 'content-length':
        if (contentLength !== undefined && contentLength !== value) {
          return bad(ctx, rt, 'conflicting Content-Length headers');
        }
        contentLength = value;
        break;
      case 'transfer-encoding':
        if (value.trim().toLowerCase() !== 'chunked' || chunked) {
          return bad(ctx, rt, 'Transfer-Encoding must be exactly "chunked"');
        }
        chunked = true;
        continue;
      case 'connection':
        connectionTokens = value;
        continue;
      case 'x-forwarded-for':
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        if (info.trusted) proto = value;
        continue;
      case 'x-forwarded-host':
        if (info.trusted) fwdHost = value;
        continue;
      case 'via':
        via = via === undefined ? value : `${via}, ${value}`;
        continue;
      default:
        if (lower === rt.priorityHeader) {
          // A priority header of the operator's own naming is believed from trusted proxies only.
          if (info.trusted) ctx.priorityHeader = value.trim().toLowerCase();
          continue;
        }
        if (HOP_BY_HOP.has(lower)) continue;
    }
    out.push(name, value);
  }
  if (chunked && contentLength !== undefined) {
    return bad(ctx, rt, 'both Content-Length and Transfer-Encoding: a request-smuggling attempt');
  }
  if (contentLength !== undefined && !/^\d{1,15}$/.test(contentLength)) {
    return bad(ctx, rt, 'Content-Length must be a decimal number');
  }
  if (ctx.host === '') return bad(ctx, rt, 'Host header is required');
  if (via !== undefined && passedHere(via, rt.viaToken)) {
    ctx.outcome = 'rejected';
    respondError(ctx, rt, 'LOOP_DETECTED', `the request already passed ${rt.viaToken} (Via)`, true);
    return DONE;
  }
  if (internal !== null || signature !== undefined) believePeer(ctx, rt, internal ?? [], signature);
  ctx.hasBody = chunked || (contentLength !== undefined && contentLength !== '0');
  ctx.contentLength = contentLength === undefined || chunked ? -1 : Number(contentLength);
  ctx.forwardedFor = xff;
  if (connectionTokens !== undefined) dropConnectionListed(out, connectionTokens);

  out.push('x-forwarded-for', xff !== undefined && info.trusted ? `${xff}, ${info.peer}` : info.peer);
  out.push('x-forwarded-proto', proto ?? rt.scheme);
  out.push('x-forwarded-host', fwdHost ?? ctx.host);
  out.push('via', via !== undefined ? `${via}, ${rt.viaToken}` : rt.viaToken);
  ctx.upstreamHeaders = out;
  ctx.clientIp = rt.locator.clientIp(info, clientAddress);
  return CONTINUE;
};

/**
 * Internal headers take effect only when a peer edge signed them (see
 * peer-auth.ts); from anyone else they are dropped unread.
 */
function believePeer(ctx: EdgeContext, rt: Needs, internal: string[], signature: string | undefined) {
  if (!rt.peerAuth.verify(ctx.x.method, ctx.x.target, ctx.host, internal, signature)) return;
  for (let i = 0; i < internal.length; i += 2) {
    if (internal[i] === HOP_HEADER) ctx.hop = true;
    else if (internal[i] === rt.priorityHeader) ctx.priorityHeader = internal[i + 1].trim().toLowerCase();
  }
}

/** True when this edge's own Via token is already in the chain: forwarding again would loop. */
function passedHere(via: string, token: string): boolean {
  if (!via.includes(token)) return false;
  return via.split(',').some((v) => v.trim() === token);
}

function bad(ctx: EdgeContext, rt: Needs, why: string): number {
  ctx.outcome = 'rejected';
  respondError(ctx, rt, 'BAD_REQUEST', why, true);
  return DONE;
}

/** Removes headers the client named in Connection (they belong to its hop only). */
function dropConnectionListed(out: string[], tokens: string): void {
  const names = tokens
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0 && !STANDARD_CONNECTION_TOKENS.has(t));
  if (names.length === 0) return;
  for (let i = out.length - 2; i >= 0; i -= 2) {
    if (names.includes(out[i].toLowerCase())) out.splice(i, 2);
  }
}
