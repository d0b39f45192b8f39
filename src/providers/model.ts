// The provider model, Denominator's shape: a zone holds record sets; a record
// set is (name, type, qualifier) with a TTL, its records and a profile.
import { formatIp, parseIpv4, parseIpv6 } from '../core/ip.js';

export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT' | 'MX';
export const RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA', 'CNAME', 'TXT', 'MX'];

/** Geo: answered to clients in these territories (ISO 3166 codes, "*" = everyone else). Weighted: share. */
export type Profile = { kind: 'geo'; territories: string[] } | { kind: 'weighted'; weight: number };

export interface RecordSet {
  /** Fully qualified, lower case, no trailing dot. */
  name: string;
  type: RecordType;
  /** Tells apart record sets of one name and type (a geo group or a weighted member). */
  qualifier?: string;
  ttl: number;
  /** Presentation form: "192.0.2.10", "10 mx.example.com", a TXT string. Sorted. */
  records: string[];
  profile?: Profile;
}

export type Steering = 'geo' | 'weighted' | 'plain';

export interface Capabilities {
  /** Steering modes the provider can express, best first; the first is the default. */
  steering: Steering[];
  types: RecordType[];
  /** Territory codes a geo profile may use: countries only, or countries and subdivisions. */
  geoCodes?: 'country' | 'country+us-subdivision' | 'country+subdivision';
  notes: string;
}

export type Change =
  | { action: 'put'; recordSet: RecordSet }
  | { action: 'delete'; name: string; type: RecordType; qualifier?: string };

export interface DnsProvider {
  readonly name: string;
  readonly capabilities: Capabilities;
  /** The record sets the zone has at these names (Meridian manages only those). */
  list(zone: string, names: readonly string[]): Promise<RecordSet[]>;
  /** Applies the changes as one batch where the provider allows it; put replaces. */
  apply(zone: string, changes: readonly Change[]): Promise<void>;
  close(): Promise<void>;
}

export const recordSetKey = (r: { name: string; type: string; qualifier?: string }) =>
  `${r.name}|${r.type}|${r.qualifier ?? ''}`;

/** Sorted records and profile territories, so two equal sets compare equal. */
/**
 * An address as RFC 5952 writes it: providers list what they hold in their own spelling (BIND and
 * Knot read back `2001:db8::abcd` for a config's `2001:DB8::ABCD`), which is the same record.
 */
function canonicalRecord(type: RecordType, value: string): string {
  const bytes = type === 'AAAA' ? parseIpv6(value) : type === 'A' ? parseIpv4(value) : null;
  return bytes ? formatIp({ family: type === 'AAAA' ? 6 : 4, bytes }) : value;
}

export function normalize(r: RecordSet): RecordSet {
  const records = r.records.map((v) => canonicalRecord(r.type, v)).sort();
  const out: RecordSet = { name: r.name, type: r.type, ttl: r.ttl, records };
  if (r.qualifier !== undefined) out.qualifier = r.qualifier;
  if (r.profile?.kind === 'geo')
    out.profile = { kind: 'geo', territories: [...r.profile.territories].sort() };
  else if (r.profile) out.profile = { ...r.profile };
  return out;
}

export function sameRecordSet(a: RecordSet, b: RecordSet): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}
