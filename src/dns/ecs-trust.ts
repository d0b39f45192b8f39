// Whose EDNS Client Subnet is believed (dns.ecs.trustFrom). ECS is a claim
// about someone else's address: anyone can send any subnet, so an operator
// may believe it only from the resolvers they know (RFC 7871 11.2).
import { type Cidr, cidrContains, parseCidr, parseIp } from '../core/ip.js';

/** Source addresses remembered before the cache is emptied (spoofed floods). */
const MAX_REMEMBERED = 10_000;

export class EcsTrust {
  private readonly networks: Cidr[];
  private readonly seen = new Map<string, boolean>();

  /** `trustFrom` was validated by the config schema; an entry that does not parse trusts nobody. */
  constructor(trustFrom: readonly string[]) {
    this.networks = trustFrom.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== null);
  }

  /** True when a query from `address` may steer by its ECS option. */
  trusts(address: string): boolean {
    const known = this.seen.get(address);
    if (known !== undefined) return known;
    const ip = parseIp(address);
    const yes = ip !== null && this.networks.some((n) => cidrContains(n, ip));
    if (this.seen.size >= MAX_REMEMBERED) this.seen.clear();
    this.seen.set(address, yes);
    return yes;
  }
}
