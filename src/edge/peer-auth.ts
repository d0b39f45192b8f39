import { createHmac, timingSafeEqual } from 'node:crypto';

/** Marks a request one edge proxied to another: the receiver serves it where it lands. */
export const HOP_HEADER = 'x-meridian-hop';
/** `t=<unix ms>;v1=<hex HMAC-SHA256>` over the request and its other x-meridian-* headers. */
export const SIGNATURE_HEADER = 'x-meridian-peer-sig';
export const INTERNAL_PREFIX = 'x-meridian-';

const SIGNATURE_FORMAT = /^t=(\d{1,16});v1=([0-9a-f]{64})$/;

/**
 * What is signed: method, target, host, the timestamp and every other
 * x-meridian-* header (lower-case name and value, sorted by name, duplicates
 * in the order sent). A header added, dropped or changed on the way breaks it.
 */
function canonical(method: string, target: string, host: string, at: string, internal: string[]): string {
  const pairs: string[] = [];
  for (let i = 0; i < internal.length; i += 2) pairs.push(`${internal[i]}:${internal[i + 1]}`);
  // A stable sort by name keeps repeated headers in the order they came.
  pairs.sort((a, b) => {
    const na = a.slice(0, a.indexOf(':'));
    const nb = b.slice(0, b.indexOf(':'));
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
  return ['meridian-hop-v1', method, target, host.toLowerCase(), at, ...pairs].join('\n');
}

function mac(key: string, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

/** The signature header's value for a request carrying `internal` (flat lower-case name, value list). */
export function signRequest(
  key: string,
  method: string,
  target: string,
  host: string,
  at: number,
  internal: string[],
): string {
  const t = String(Math.trunc(at));
  return `t=${t};v1=${mac(key, canonical(method, target, host, t, internal)).toString('hex')}`;
}

/** The headers of a signed hop, as a peer edge sends them (also used by tests to play a peer). */
export function signHop(key: string, method: string, target: string, host: string, at = Date.now()) {
  return {
    [HOP_HEADER]: '1',
    [SIGNATURE_HEADER]: signRequest(key, method, target, host, at, [HOP_HEADER, '1']),
  };
}

/**
 * Peer edges prove who they are with an HMAC under the shared peer key
 * (edge.peers.key). Without a key nothing is ever verified: every
 * x-meridian-* header is then ignored, from clients and peers alike.
 */
export class PeerAuth {
  private readonly hopOnly: string[];

  constructor(
    private readonly key: string | null,
    private readonly maxSkewMs: number,
  ) {
    this.hopOnly = [HOP_HEADER, '1'];
  }

  get enabled(): boolean {
    return this.key !== null;
  }

  /** Headers to add to a request sent to another region's edge. */
  hopHeaders(method: string, target: string, host: string): string[] {
    if (this.key === null) return this.hopOnly;
    return [
      HOP_HEADER,
      '1',
      SIGNATURE_HEADER,
      signRequest(this.key, method, target, host, Date.now(), this.hopOnly),
    ];
  }

  /**
   * True when `signature` is this key's HMAC over the request and its
   * internal headers, made within maxSkew of now (either side). A replay
   * inside the window gets only the same request served in the same place.
   */
  verify(
    method: string,
    target: string,
    host: string,
    internal: string[],
    signature: string | undefined,
    now = Date.now(),
  ): boolean {
    if (this.key === null || signature === undefined) return false;
    const m = SIGNATURE_FORMAT.exec(signature.trim());
    if (m === null) return false;
    if (Math.abs(now - Number(m[1])) > this.maxSkewMs) return false;
    const expected = mac(this.key, canonical(method, target, host, m[1], internal));
    return timingSafeEqual(expected, Buffer.from(m[2], 'hex'));
  }
}
