// The zone as the server sees it: names in wire form, static record sets,
// the steered service names and where explanations live. Built from config
// on start and on every reload; never changed afterwards.
import { type MeridianConfig, serviceAnswers } from '../config/index.js';
import type { AnswerPolicy } from '../core/answer-regions.js';
import { parseIpv4, parseIpv6 } from '../core/ip.js';
import { MeridianError } from '../errors.js';
import { nameToWire, TYPE, wireToName } from './wire.js';
import type { Writer } from './writer.js';

export interface Rr {
  /** Owner name in wire form, lower-case. */
  owner: string;
  type: number;
  ttl: number;
  rdata: (w: Writer) => void;
  /** The name in the data, for CNAME, NS and MX: followed for chains and glue. */
  target?: string;
}

export interface RegionAddresses {
  ipv4: Uint8Array[];
  ipv6: Uint8Array[];
}

/** A service hostname: its A/AAAA come from the steering decision, with the service's own TTL and policy. */
export interface SteeredName {
  hostname: string;
  /** `services[].ttl`, else `zone.ttl`. */
  ttl: number;
  /** `services[].answers`, else `steering.answers`: whether the fallback region's addresses follow. */
  answers: AnswerPolicy;
}

export interface Zone {
  apex: string;
  apexName: string;
  soa: Rr;
  /** RFC 2308: how long resolvers cache "no such name" and "no such type". */
  negativeTtl: number;
  /** Static record sets by owner, then type. */
  nodes: Map<string, Map<number, Rr[]>>;
  /** Service hostnames (wire form) whose A/AAAA come from the steering decision. */
  steered: Map<string, SteeredName>;
  /** `_meridian.<hostname>` -> hostname, when explanations are on. */
  explain: Map<string, string>;
  /** Names that exist only because something lives below them: NODATA, not NXDOMAIN. */
  nonTerminals: Set<string>;
  regions: Map<string, RegionAddresses>;
  /** True when some service answers `home+fallback`: steering then finds each network's fallback too. */
  anyFallback: boolean;
}

const aRdata = (ip: Uint8Array) => (w: Writer) => w.bytes(ip);
const nameRdata = (wire: string) => (w: Writer) => w.name(wire);

function txtRdata(strings: string[]) {
  const chunks = strings.map((s) => Buffer.from(s, 'utf8'));
  return (w: Writer) => {
    for (const c of chunks) {
      const piece = c.subarray(0, 255);
      w.u8(piece.length);
      w.bytes(piece);
    }
  };
}

/** A record name from config: "@" is the apex, a name inside the zone is absolute, anything else is relative. */
export function absoluteName(name: string, apexName: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n === '@' || n === '' || n === apexName) return apexName;
  if (n.endsWith(`.${apexName}`)) return n;
  return `${n}.${apexName}`;
}

/** `serial` goes into the SOA: the snapshot version, so it grows with every change. */
export function buildZone(config: MeridianConfig, serial = 1): Zone {
  const z = config.zone;
  const apexName = z.name;
  const apex = nameToWire(apexName);
  const nodes = new Map<string, Map<number, Rr[]>>();
  const add = (owner: string, type: number, ttl: number, rdata: (w: Writer) => void, target?: string) => {
    let types = nodes.get(owner);
    if (!types) {
      types = new Map();
      nodes.set(owner, types);
    }
    let set = types.get(type);
    if (!set) {
      set = [];
      types.set(type, set);
    }
    set.push({ owner, type, ttl, rdata, target });
  };

  const nsNames = z.nameservers.map((ns) => absoluteName(ns.name, apexName));
  const mname = nameToWire(
    z.soa.mname ? absoluteName(z.soa.mname, apexName) : (nsNames[0] ?? `ns1.${apexName}`),
  );
  const rname = nameToWire(absoluteName(z.soa.rname, apexName));
  const soa: Rr = {
    owner: apex,
    type: TYPE.SOA,
    ttl: z.staticTtl,
    rdata: (w) => {
      w.name(mname);
      w.name(rname);
      w.u32(serial);
      w.u32(z.soa.refresh);
      w.u32(z.soa.retry);
      w.u32(z.soa.expire);
      w.u32(z.soa.minimum);
    },
  };
  add(apex, TYPE.SOA, soa.ttl, soa.rdata);
  for (const ns of nsNames.length > 0 ? nsNames : [`ns1.${apexName}`]) {
    add(apex, TYPE.NS, z.staticTtl, nameRdata(nameToWire(ns)), nameToWire(ns));
  }
  z.nameservers.forEach((ns, i) => {
    const owner = nameToWire(nsNames[i]);
    if (!owner.endsWith(apex)) return;
    for (const ip of ns.ipv4) add(owner, TYPE.A, z.staticTtl, aRdata(parseIpv4(ip)!));
    for (const ip of ns.ipv6) add(owner, TYPE.AAAA, z.staticTtl, aRdata(parseIpv6(ip)!));
  });

  const steered = new Map<string, SteeredName>(
    config.services.map((s) => [
      nameToWire(s.hostname),
      { hostname: s.hostname, ...serviceAnswers(config, s) },
    ]),
  );
  z.records.forEach((r, i) => {
    const owner = nameToWire(absoluteName(r.name, apexName));
    const ttl = r.ttl ?? z.staticTtl;
    const where = `zone.records[${i}] (${absoluteName(r.name, apexName)} ${r.type})`;
    if (steered.has(owner) && (r.type === 'A' || r.type === 'AAAA' || r.type === 'CNAME')) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `${where}: this name is a service hostname; its addresses come from regions[].addresses`,
      );
    }
    if (r.type === 'A') for (const v of r.values) add(owner, TYPE.A, ttl, aRdata(parseIpv4(v)!));
    if (r.type === 'AAAA') for (const v of r.values) add(owner, TYPE.AAAA, ttl, aRdata(parseIpv6(v)!));
    if (r.type === 'CNAME') {
      if (owner === apex)
        throw new MeridianError('CONFIG_INVALID', `${where}: the zone apex cannot be a CNAME`);
      add(owner, TYPE.CNAME, ttl, nameRdata(nameToWire(r.values[0])), nameToWire(r.values[0]));
    }
    if (r.type === 'TXT') add(owner, TYPE.TXT, ttl, txtRdata(r.values));
    if (r.type === 'MX') {
      for (const mx of r.values) {
        const exchange = nameToWire(mx.exchange);
        const rdata = (w: Writer) => {
          w.u16(mx.preference);
          w.name(exchange);
        };
        add(owner, TYPE.MX, ttl, rdata, exchange);
      }
    }
  });
  for (const [owner, types] of nodes) {
    if (types.has(TYPE.CNAME) && (types.size > 1 || steered.has(owner))) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `zone.records: a CNAME at ${wireToName(owner)} cannot sit beside other records`,
      );
    }
  }

  const explain = new Map<string, string>();
  if (config.dns.explain) for (const host of steered.keys()) explain.set(`\x09_meridian${host}`, host);

  const nonTerminals = new Set<string>();
  for (const name of [...nodes.keys(), ...steered.keys(), ...explain.keys()]) {
    let rest = name;
    while (rest.length > apex.length) {
      rest = rest.slice(rest.charCodeAt(0) + 1);
      if (!nodes.has(rest) && !steered.has(rest)) nonTerminals.add(rest);
    }
  }

  const regions = new Map<string, RegionAddresses>();
  for (const r of config.regions) {
    regions.set(r.id, {
      ipv4: r.addresses.ipv4.map((ip) => parseIpv4(ip)!),
      ipv6: r.addresses.ipv6.map((ip) => parseIpv6(ip)!),
    });
  }
  return {
    apex,
    apexName,
    soa,
    negativeTtl: z.soa.minimum,
    nodes,
    steered,
    explain,
    nonTerminals,
    regions,
    anyFallback: [...steered.values()].some((s) => s.answers === 'home+fallback'),
  };
}

/**
 * The steered A or AAAA set of a service name: the region's addresses, then the fallback region's
 * (an address both list appears once, where the region lists it). Empty when neither has that family.
 */
export function steeredRrs(
  zone: Zone,
  owner: string,
  type: number,
  region: string,
  fallback: string | null = null,
): Rr[] {
  const ttl = zone.steered.get(owner)?.ttl ?? 0;
  const seen = new Set<string>();
  const out: Rr[] = [];
  for (const id of fallback === null ? [region] : [region, fallback]) {
    const addrs = zone.regions.get(id);
    const list = !addrs ? [] : type === TYPE.A ? addrs.ipv4 : type === TYPE.AAAA ? addrs.ipv6 : [];
    for (const ip of list) {
      const key = ip.join('.');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ owner, type, ttl, rdata: aRdata(ip) });
    }
  }
  return out;
}
