// Where a client network goes, cached per network: the geo lookup and
// decide() run once per /24 (IPv6 /56) and snapshot, not once per query.
import { answerRegions } from '../core/answer-regions.js';
import { decide } from '../core/decide.js';
import { type ParsedIp, SUBNET_PREFIX } from '../core/ip.js';
import type { Client, Decision, Snapshot } from '../core/model.js';
import type { GeoLocator } from '../geo/index.js';
import type { ClientSubnet } from './wire.js';
import type { Zone } from './zone.js';

export interface Steer {
  client: Client;
  /** 'ecs' when the query's client subnet was used, else the source address. */
  via: 'ecs' | 'address';
  decision: Decision;
  /** Region to answer A with: the first candidate that has IPv4 addresses (null: none has). */
  v4: string | null;
  v6: string | null;
  /**
   * Region whose addresses follow v4's for a service answering home+fallback (null: none qualifies,
   * or no service of the zone answers home+fallback).
   */
  v4Fallback: string | null;
  v6Fallback: string | null;
  /** Keys of the compiled answers under home+fallback: "region fallback", or the region alone. Made once per network. */
  v4FallbackKey: string | null;
  v6FallbackKey: string | null;
}

export class Steering {
  private readonly cache = new Map<string, Steer>();
  /** IPv4 networks by number ((a.b.c << 6) | prefix): no string built per query. */
  private readonly cache4 = new Map<number, Steer>();

  constructor(
    private readonly geo: GeoLocator,
    private snapshot: Snapshot,
    private zone: Zone,
    private readonly maxEntries = 100_000,
  ) {}

  update(snapshot: Snapshot, zone: Zone) {
    this.snapshot = snapshot;
    this.zone = zone;
    this.cache.clear();
    this.cache4.clear();
  }

  current(): Snapshot {
    return this.snapshot;
  }

  forAddress(address: string): Steer {
    // Dotted IPv4, the common case, keyed without parsing.
    const key = address.indexOf(':') < 0 ? address.slice(0, address.lastIndexOf('.')) : `a${address}`;
    return this.cache.get(key) ?? this.remember(key, this.geo.client(address), 'address');
  }

  forSubnet(ecs: ClientSubnet): Steer {
    const a = ecs.address;
    const v4 = ecs.family === 1;
    const prefix = Math.min(ecs.sourcePrefix, v4 ? SUBNET_PREFIX[4] : SUBNET_PREFIX[6]);
    const bytes = () => {
      const b = new Uint8Array(v4 ? 4 : 16);
      b.set(a.subarray(0, b.length));
      return { family: v4 ? 4 : 6, bytes: b } as ParsedIp;
    };
    if (v4) {
      const n = ((((a[0] ?? 0) << 16) | ((a[1] ?? 0) << 8) | (a[2] ?? 0)) * 64 + prefix) >>> 0;
      const hit = this.cache4.get(n);
      if (hit) return hit;
      const steer = this.make(this.geo.client(bytes(), ecs.sourcePrefix), 'ecs');
      if (this.cache4.size >= this.maxEntries) this.cache4.clear();
      this.cache4.set(n, steer);
      return steer;
    }
    const key = `e6${Buffer.from(a.subarray(0, (prefix + 7) >> 3)).toString('hex')}/${prefix}`;
    return this.cache.get(key) ?? this.remember(key, this.geo.client(bytes(), ecs.sourcePrefix), 'ecs');
  }

  private remember(key: string, client: Client, via: Steer['via']): Steer {
    const steer = this.make(client, via);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, steer);
    return steer;
  }

  private make(client: Client, via: Steer['via']): Steer {
    const decision = decide(client, this.snapshot);
    // The region is the same under either policy; the fallback is found only when some name needs it.
    const policy = this.zone.anyFallback ? 'home+fallback' : 'home';
    const pick = (family: 'ipv4' | 'ipv6') =>
      answerRegions(
        decision,
        this.snapshot,
        policy,
        (region) => (this.zone.regions.get(region)?.[family].length ?? 0) > 0,
      );
    const a = pick('ipv4');
    const aaaa = pick('ipv6');
    const key = (r: typeof a) =>
      r === null ? null : r.fallback === null ? r.region : `${r.region} ${r.fallback}`;
    return {
      client,
      via,
      decision,
      v4: a?.region ?? null,
      v6: aaaa?.region ?? null,
      v4Fallback: a?.fallback ?? null,
      v6Fallback: aaaa?.fallback ?? null,
      v4FallbackKey: key(a),
      v6FallbackKey: key(aaaa),
    };
  }
}
