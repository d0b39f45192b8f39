// What the zone says for a name and type, compiled once into the bytes that
// follow the question in a response. Pointers in those bytes refer to the
// question name at offset 12, so the same bytes serve every query for that
// name whatever its case: the response echoes the asker's spelling.
import { CLASS_IN, isInZone, RCODE, TYPE } from './wire.js';
import { Writer } from './writer.js';
import { type Rr, type SteeredName, steeredRrs, type Zone } from './zone.js';

export interface Compiled {
  rcode: number;
  an: number;
  ns: number;
  ar: number;
  /** Answer, authority and additional sections, ready to follow the question. */
  body: Buffer;
}

export interface Resolution {
  rcode: number;
  answer: Rr[];
  authority: Rr[];
  additional: Rr[];
  /** True when the answer holds steered addresses, so it differs per region. */
  steered: boolean;
  /** The service name whose addresses those are (the end of a CNAME chain), with its TTL and policy. */
  steeredName?: SteeredName;
}

const MAX_CHAIN = 8;

/**
 * Looks a name up; `region` picks the addresses of steered names (null: leave them out), and
 * `fallback` the region whose addresses follow them when the name's policy is home+fallback.
 */
export function resolve(
  zone: Zone,
  qname: string,
  qtype: number,
  region: string | null,
  fallback: string | null = null,
): Resolution {
  const answer: Rr[] = [];
  const negative = (rcode: number): Resolution => ({
    rcode,
    answer,
    authority: [{ ...zone.soa, ttl: zone.negativeTtl }],
    additional: [],
    steered: false,
  });
  let name = qname;
  let steered = false;
  let steeredName: SteeredName | undefined;
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const types = zone.nodes.get(name);
    const service = zone.steered.get(name);
    const isSteered = service !== undefined;
    const exists = types || isSteered || zone.explain.has(name) || zone.nonTerminals.has(name);
    if (!exists) return negative(RCODE.NXDOMAIN);
    const cname = types?.get(TYPE.CNAME);
    if (cname && qtype !== TYPE.CNAME && qtype !== TYPE.ANY) {
      answer.push(...cname);
      const target = cname[0].target!;
      if (!isInZone(target, zone.apex)) break;
      name = target;
      continue;
    }
    const rrs: Rr[] = [];
    if (qtype === TYPE.ANY) {
      for (const set of types?.values() ?? []) rrs.push(...set);
    } else {
      rrs.push(...(types?.get(qtype) ?? []));
    }
    if (isSteered && (qtype === TYPE.A || qtype === TYPE.AAAA || qtype === TYPE.ANY)) {
      steered = true;
      steeredName = service;
      if (region !== null) {
        const then = service.answers === 'home+fallback' ? fallback : null;
        for (const t of qtype === TYPE.ANY ? [TYPE.A, TYPE.AAAA] : [qtype]) {
          rrs.push(...steeredRrs(zone, name, t, region, then));
        }
      }
    }
    if (rrs.length === 0 && answer.length === 0) return { ...negative(RCODE.NOERROR), steered, steeredName };
    answer.push(...rrs);
    break;
  }
  return {
    rcode: RCODE.NOERROR,
    answer,
    authority: [],
    additional: glue(zone, answer),
    steered,
    steeredName,
  };
}

/** Addresses of in-zone name servers and mail exchangers named in the answer. */
function glue(zone: Zone, answer: Rr[]): Rr[] {
  const out: Rr[] = [];
  for (const rr of answer) {
    if ((rr.type !== TYPE.NS && rr.type !== TYPE.MX) || !rr.target) continue;
    const types = zone.nodes.get(rr.target);
    out.push(...(types?.get(TYPE.A) ?? []), ...(types?.get(TYPE.AAAA) ?? []));
  }
  return out;
}

/** Encodes a resolution as the bytes after the question of `qname`/`qtype`. */
export function compile(qname: string, qtype: number, r: Resolution): Compiled {
  const w = new Writer();
  for (let i = 0; i < 12; i++) w.u8(0);
  w.name(qname);
  w.u16(qtype);
  w.u16(CLASS_IN);
  const start = w.length;
  for (const rr of [...r.answer, ...r.authority, ...r.additional]) writeRr(w, rr);
  return {
    rcode: r.rcode,
    an: r.answer.length,
    ns: r.authority.length,
    ar: r.additional.length,
    body: w.slice(start),
  };
}

export function writeRr(w: Writer, rr: Rr) {
  w.name(rr.owner);
  w.u16(rr.type);
  w.u16(CLASS_IN);
  w.u32(rr.ttl);
  w.sized(() => rr.rdata(w));
}
