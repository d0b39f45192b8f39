import type { EdgeContext } from '../context.js';
import { HOP_BY_HOP } from '../hop-by-hop.js';
import { attemptsHeader } from '../outbound/response-head.js';
import type { EdgeRuntime } from '../runtime.js';

/** Protocol names (lower case, version dropped) of an Upgrade header: "WebSocket, foo/2" -> [websocket, foo]. */
export function protocolNames(upgrade: string): string[] {
  return upgrade
    .split(',')
    .map((t) => t.trim().split('/')[0].trim().toLowerCase())
    .filter((t) => t.length > 0);
}

/**
 * The client's 101 head from the upstream's: hop-by-hop headers removed
 * except the Upgrade the upstream switched to, `Connection: upgrade`, and
 * x-meridian-region (a peer edge's kept: that region serves the tunnel).
 * Null when the upstream switched to a protocol the client did not offer
 * (RFC 9110 7.8), or named none.
 */
export function switchingHead(
  ctx: EdgeContext,
  rt: EdgeRuntime,
  offered: string,
  raw: string[],
  fromPeer: boolean,
): { headers: string[]; protocol: string; region: string } | null {
  const out: string[] = [];
  let upgrade: string | undefined;
  let region = rt.region;
  let peerAttempts: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (lower === 'upgrade') upgrade = upgrade === undefined ? value : `${upgrade}, ${value}`;
    else if (lower === 'x-meridian-region') {
      if (fromPeer) region = value;
    } else if (lower === 'x-meridian-attempts') {
      if (fromPeer) peerAttempts = value;
    } else if (!HOP_BY_HOP.has(lower) && !lower.startsWith('x-meridian-')) out.push(raw[i], value);
  }
  const names = upgrade === undefined ? [] : protocolNames(upgrade);
  const allowed = new Set(protocolNames(offered));
  if (names.length === 0 || !names.every((n) => allowed.has(n))) return null;
  out.push('connection', 'Upgrade', 'upgrade', upgrade!, 'x-meridian-region', region);
  const attempts = attemptsHeader(ctx, rt, peerAttempts);
  if (attempts !== undefined) out.push('x-meridian-attempts', attempts);
  return { headers: out, protocol: names[0], region };
}
