// The anti-entropy exchange between regions, over NATS request/reply (core
// NATS, not JetStream: it must work when the streams themselves are what went
// wrong). A region asks a peer for its per-range digests, then for the records
// of the ranges that differ. Requests and replies are JSON; every field of a
// request is checked, so a hostile or broken peer gets an error reply, never a
// crash or a scan of something else.
import { INTERNAL_PREFIX } from '../cache.js';
import { HLC_PATTERN } from '../hlc.js';
import { RangeDigests } from '../resync.js';

export const PROTOCOL_VERSION = 1;
export const MAX_RANGES = 65_536;
/** A records reply stops adding SCAN batches past this size (NATS's default max_payload is 1 MiB). */
export const MAX_REPLY_BYTES = 256 * 1024;

/**
 * Keys anti-entropy compares: not the internal ones (lag canaries change every second in their own
 * region and reach the others by replication alone).
 */
export const compared = (key: string) => !key.startsWith(INTERNAL_PREFIX);

/** Who answers for a region: namespaced by the stream prefix, so two deployments on one NATS never mix. */
export const antiEntropySubject = (streamPrefix: string, region: string) =>
  `meridian.ae.${streamPrefix}.${region.replace(/[^A-Za-z0-9_-]/g, '_')}`;

export type AntiEntropyRequest =
  | { v: 1; op: 'digest'; ranges: number }
  | { v: 1; op: 'records'; ranges: number; want: number[]; cursor: string };

export interface WireRecord {
  /** Key without the prefix. */
  k: string;
  /** HLC stamp. */
  h: string;
  /** Value; null for a tombstone. */
  v: string | null;
  /** Absolute expiry in ms, when the key has one. */
  x?: number;
}

export type AntiEntropyReply =
  | { v: 1; ranges: number; count: string; xor: string; sum: string }
  | { v: 1; cursor: string; records: WireRecord[] }
  | { v: 1; error: string };

const isInt = (x: unknown, min: number, max: number): x is number =>
  typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;

/** The request, or why it is refused. */
export function parseRequest(data: Uint8Array): AntiEntropyRequest | string {
  let r: unknown;
  try {
    r = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (typeof r !== 'object' || r === null) return 'not an object';
  const o = r as Record<string, unknown>;
  if (o.v !== PROTOCOL_VERSION) return `unknown version ${JSON.stringify(o.v)}`;
  if (!isInt(o.ranges, 1, MAX_RANGES)) return `ranges: expected an integer 1..${MAX_RANGES}`;
  if (o.op === 'digest') return { v: 1, op: 'digest', ranges: o.ranges };
  if (o.op !== 'records') return `op: expected digest or records, got ${JSON.stringify(o.op)}`;
  const ranges = o.ranges;
  if (!Array.isArray(o.want) || o.want.length === 0 || o.want.length > ranges)
    return 'want: expected a non-empty list of ranges';
  if (!o.want.every((w) => isInt(w, 0, ranges - 1))) return `want: expected integers 0..${ranges - 1}`;
  if (typeof o.cursor !== 'string' || !/^\d{1,20}$/.test(o.cursor)) return 'cursor: expected a SCAN cursor';
  return { v: 1, op: 'records', ranges, want: o.want as number[], cursor: o.cursor };
}

const u32ToBase64 = (a: Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export function digestReply(d: RangeDigests): AntiEntropyReply {
  return {
    v: 1,
    ranges: d.ranges,
    count: u32ToBase64(d.count),
    xor: u32ToBase64(d.xor),
    sum: u32ToBase64(d.sum),
  };
}

/** A peer's digests from its reply; throws on anything malformed. */
export function readDigests(reply: unknown, ranges: number): RangeDigests {
  const o = reply as Record<string, unknown>;
  if (typeof o?.error === 'string') throw new Error(`the peer refused: ${o.error}`);
  if (o?.ranges !== ranges)
    throw new Error(`the peer answered for ${String(o?.ranges)} ranges, not ${ranges}`);
  const d = new RangeDigests(ranges);
  for (const field of ['count', 'xor', 'sum'] as const) {
    const bytes = typeof o[field] === 'string' ? Buffer.from(o[field] as string, 'base64') : null;
    if (!bytes || bytes.length !== ranges * 4) throw new Error(`the peer's ${field} digests are malformed`);
    d[field].set(new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
  }
  return d;
}

/** A peer's page of records; throws on anything malformed. */
export function readRecords(reply: unknown): { cursor: string; records: WireRecord[] } {
  const o = reply as Record<string, unknown>;
  if (typeof o?.error === 'string') throw new Error(`the peer refused: ${o.error}`);
  if (typeof o?.cursor !== 'string' || !Array.isArray(o.records))
    throw new Error('the peer sent a malformed page');
  for (const r of o.records as Record<string, unknown>[])
    if (
      typeof r?.k !== 'string' ||
      typeof r.h !== 'string' ||
      !HLC_PATTERN.test(r.h) ||
      !(typeof r.v === 'string' || r.v === null) ||
      !(r.x === undefined || typeof r.x === 'number')
    )
      throw new Error('the peer sent a malformed record');
  return { cursor: o.cursor, records: o.records as WireRecord[] };
}
