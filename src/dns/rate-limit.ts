// Response-rate limiting (the idea of BIND's RRL, per client network): a
// token bucket per IPv4 /24 or IPv6 /56 of the UDP source address. The
// source is what an attacker forges, so ECS does not count here.

import type { DnsConfig } from '../config/index.js';
import { maskIp, parseIp } from '../core/ip.js';

export type Verdict = 'ok' | 'truncate' | 'drop';

interface Bucket {
  tokens: number;
  at: number;
  limited: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly settings: DnsConfig['rateLimit'],
    private readonly now: () => number = Date.now,
  ) {
    // Forget networks that have been quiet long enough to have a full bucket again.
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  /** What to do with the response for a query from `address`. */
  check(address: string): Verdict {
    const key = this.networkOf(address);
    const now = this.now();
    const { responsesPerSecond: rate, burst } = this.settings;
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: burst, at: now, limited: 0 };
      this.buckets.set(key, b);
    } else if (now !== b.at) {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'ok';
    }
    b.limited++;
    const slip = this.settings.slip;
    return slip > 0 && b.limited % slip === 0 ? 'truncate' : 'drop';
  }

  private networkOf(address: string): string {
    // The common case, dotted IPv4, without parsing.
    if (this.settings.ipv4Prefix === 24 && address.indexOf(':') < 0) {
      return address.slice(0, address.lastIndexOf('.'));
    }
    const ip = parseIp(address);
    if (!ip) return address;
    const masked = maskIp(ip, ip.family === 4 ? this.settings.ipv4Prefix : this.settings.ipv6Prefix);
    return Buffer.from(masked.bytes).toString('hex');
  }

  private sweep() {
    const now = this.now();
    const full = (this.settings.burst / this.settings.responsesPerSecond) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at > full) this.buckets.delete(key);
  }

  close() {
    clearInterval(this.sweeper);
  }
}
