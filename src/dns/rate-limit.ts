// Response-rate limiting, classified by RESPONSE as NSD and Knot do: a token
// bucket per (client network, name class, response kind). One busy resolver
// asking many names fills many buckets and is not held back; one answer
// repeated to a victim (whose address the attacker forges) empties its bucket.
// The network is the UDP source address, what an attacker forges; ECS does not count.
//
// The buckets sit in a fixed-size table indexed by a hash, and keys that
// collide share a bucket (as in Knot): a flood of spoofed sources or random
// names cannot grow memory, and no timer sweeps anything.

import type { DnsConfig } from '../config/index.js';
import { maskIp, parseIp } from '../core/ip.js';

export type Verdict = 'ok' | 'truncate' | 'drop';

/** What kind of response it is: the kinds that can be repeated at a victim are limited apart. */
export type ResponseKind = 'answer' | 'nxdomain' | 'nodata' | 'error';
const KIND_CODE: Record<ResponseKind, number> = { answer: 1, nxdomain: 2, nodata: 3, error: 4 };

export interface RateLimiterOptions {
  /**
   * Processes sharing this limit, each with its own table: each allows rate/workers and burst/workers.
   * The cluster's workers share one UDP socket and the kernel hands a datagram to whichever worker is
   * reading, so one source's queries spread over all of them (cluster.ts).
   */
  workers?: number;
  now?: () => number;
}

export class RateLimiter {
  /** Buckets in the table, a power of two. */
  readonly size: number;
  readonly rate: number;
  readonly burst: number;
  private readonly mask: number;
  private readonly tokens: Float64Array;
  /** When a bucket was last refilled, in ms; 0: never used (a full bucket). */
  private readonly at: Float64Array;
  private readonly limited: Uint32Array;
  private readonly now: () => number;

  constructor(
    private readonly settings: DnsConfig['rateLimit'],
    options: RateLimiterOptions = {},
  ) {
    const workers = Math.max(1, options.workers ?? 1);
    this.rate = settings.responsesPerSecond / workers;
    this.burst = Math.max(1, settings.burst / workers);
    this.size = settings.tableSize;
    this.mask = this.size - 1;
    this.tokens = new Float64Array(this.size);
    this.at = new Float64Array(this.size);
    this.limited = new Uint32Array(this.size);
    this.now = options.now ?? Date.now;
  }

  /**
   * What to do with a UDP response of `kind` for `name` (the class name: the
   * question name, or the zone for NXDOMAIN, empty for errors) to `address`.
   */
  check(address: string, name: string, kind: ResponseKind): Verdict {
    const i = this.bucketOf(address, name, kind);
    const now = Math.max(1, this.now());
    const last = this.at[i];
    if (last === 0) this.tokens[i] = this.burst;
    else if (now > last)
      this.tokens[i] = Math.min(this.burst, this.tokens[i] + ((now - last) / 1000) * this.rate);
    this.at[i] = now;
    if (this.tokens[i] >= 1) {
      this.tokens[i] -= 1;
      return 'ok';
    }
    const n = ++this.limited[i];
    const slip = this.settings.slip;
    return slip > 0 && n % slip === 0 ? 'truncate' : 'drop';
  }

  /** The last address hashed and its hash: a resolver sends many queries in a row. */
  private lastAddress: string | null = null;
  private lastAddressHash = 0;

  /** FNV-1a over the network, the kind and the name. */
  bucketOf(address: string, name: string, kind: ResponseKind): number {
    let h: number;
    if (address === this.lastAddress) h = this.lastAddressHash;
    else {
      h = this.networkHash(address);
      this.lastAddress = address;
      this.lastAddressHash = h;
    }
    h = Math.imul(h ^ (0x100 | KIND_CODE[kind]), 0x01000193);
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    // Fold the high bits in: the table index takes only the low ones.
    return (h ^ (h >>> 16)) & this.mask;
  }

  /** FNV-1a state after the client network of `address`. */
  private networkHash(address: string): number {
    let h = 0x811c9dc5;
    const v4 = address.indexOf(':') < 0;
    if (v4 && this.settings.ipv4Prefix === 24) {
      // The common case, dotted IPv4 /24, hashed without parsing.
      const end = address.lastIndexOf('.');
      for (let i = 0; i < end; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
    } else {
      const ip = parseIp(address);
      if (ip) {
        const masked = maskIp(ip, ip.family === 4 ? this.settings.ipv4Prefix : this.settings.ipv6Prefix);
        h = Math.imul(h ^ ip.family, 0x01000193);
        for (const b of masked.bytes) h = Math.imul(h ^ b, 0x01000193);
      } else for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
    }
    return h;
  }

  /** Nothing to stop (no timers); kept so a server closes every part the same way. */
  close() {}
}

const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;

/**
 * The class of a response we built: its kind from the RCODE and answer count,
 * and the name it is limited under. NXDOMAIN counts against the zone, so
 * random names do not each get a fresh bucket (Knot, NSD); errors against no name.
 */
export function classify(
  response: Uint8Array,
  qname: string,
  apex: string,
): { kind: ResponseKind; name: string } {
  const rcode = response[3] & 0x0f;
  if (rcode === RCODE_NXDOMAIN) return { kind: 'nxdomain', name: apex };
  if (rcode !== RCODE_NOERROR || response.length < 12) return { kind: 'error', name: '' };
  const answers = (response[6] << 8) | response[7];
  return answers > 0 ? { kind: 'answer', name: qname } : { kind: 'nodata', name: qname };
}
