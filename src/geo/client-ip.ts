import { type Cidr, cidrContains, formatIp, parseCidr, parseIp } from '../core/ip.js';

export interface TrustedProxies {
  ranges: Cidr[];
  /** Lower-case header name, e.g. "x-forwarded-for". */
  header: string;
}

export function trustedProxies(ranges: readonly string[], header = 'x-forwarded-for'): TrustedProxies {
  return {
    ranges: ranges.map((r) => parseCidr(r)).filter((c): c is Cidr => c !== null),
    header: header.toLowerCase(),
  };
}

/**
 * The address to locate a request by. The header is believed only when the
 * socket peer is a trusted proxy; then the right-most address that is not
 * itself a trusted proxy is the client (earlier entries are the client's to forge).
 */
export function clientAddress(
  peer: string,
  headerValue: string | string[] | undefined,
  trust: TrustedProxies,
): string {
  const peerIp = parseIp(peer);
  if (!peerIp) return peer;
  const isTrusted = (ip: NonNullable<ReturnType<typeof parseIp>>) =>
    trust.ranges.some((r) => cidrContains(r, ip));
  if (!isTrusted(peerIp) || headerValue === undefined) return formatIp(peerIp);
  const hops = (Array.isArray(headerValue) ? headerValue.join(',') : headerValue)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  let client = peerIp;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseIp(hops[i].replace(/^\[|\](:\d+)?$/g, ''));
    if (!hop) break; // a garbage entry: stop believing anything to its left
    client = hop;
    if (!isTrusted(hop)) break;
  }
  return formatIp(client);
}
