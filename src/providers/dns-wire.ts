// Just enough DNS wire format for RFC 2136 updates signed with TSIG (RFC 8945).
// Queries use dns-packet; it cannot sign.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { MeridianError } from '../errors.js';
import type { RecordType } from './model.js';

export const TSIG_ALGORITHMS: Record<string, { wire: string; hash: string }> = {
  'hmac-sha256': { wire: 'hmac-sha256', hash: 'sha256' },
  'hmac-sha512': { wire: 'hmac-sha512', hash: 'sha512' },
  'hmac-sha384': { wire: 'hmac-sha384', hash: 'sha384' },
  'hmac-sha1': { wire: 'hmac-sha1', hash: 'sha1' },
  'hmac-md5': { wire: 'hmac-md5.sig-alg.reg.int', hash: 'md5' },
};

const TYPE_CODES: Record<RecordType | 'SOA', number> = { A: 1, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };
const CLASS_IN = 1;
const CLASS_ANY = 255;
const TYPE_TSIG = 250;

export interface TsigKey {
  name: string;
  algorithm: string;
  /** Base64 secret. */
  secret: string;
}

export type UpdateOp =
  | { op: 'delete'; name: string; type: RecordType }
  | { op: 'add'; name: string; type: RecordType; ttl: number; value: string };

/** Uncompressed, lower-case wire name (the canonical form TSIG needs). */
export function nameWire(name: string): Buffer {
  const labels = name.replace(/\.$/, '').toLowerCase().split('.').filter(Boolean);
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0]),
  ]);
}

const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u32 = (n: number) => Buffer.from([(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

function ipv6Bytes(text: string): Buffer {
  const [head, tail = ''] = text.includes('::') ? text.split('::') : [text, undefined as unknown as string];
  const h = head ? head.split(':') : [];
  const t = text.includes('::') && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => u16(Number.parseInt(g, 16))));
}

export function rdata(type: RecordType, value: string): Buffer {
  switch (type) {
    case 'A':
      if (!isIPv4(value)) throw new MeridianError('BAD_ARGUMENT', `not an IPv4 address: ${value}`);
      return Buffer.from(value.split('.').map(Number));
    case 'AAAA':
      if (!isIPv6(value)) throw new MeridianError('BAD_ARGUMENT', `not an IPv6 address: ${value}`);
      return ipv6Bytes(value);
    case 'CNAME':
      return nameWire(value);
    case 'MX': {
      const [pref, exchange] = value.split(/\s+/);
      return Buffer.concat([u16(Number(pref)), nameWire(exchange)]);
    }
    case 'TXT': {
      const bytes = Buffer.from(value, 'utf8');
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length || i === 0; i += 255) {
        const part = bytes.subarray(i, i + 255);
        chunks.push(Buffer.from([part.length]), part);
      }
      return Buffer.concat(chunks);
    }
  }
}

function rr(name: string, type: number, cls: number, ttl: number, data: Buffer): Buffer {
  return Buffer.concat([nameWire(name), u16(type), u16(cls), u32(ttl), u16(data.length), data]);
}

/** An UPDATE message for `zone`, signed with `key`; `mac` is needed to check the reply. */
export function updateMessage(
  zone: string,
  ops: readonly UpdateOp[],
  key: TsigKey,
  now = Date.now(),
): { message: Buffer; mac: Buffer } {
  const alg = TSIG_ALGORITHMS[key.algorithm];
  if (!alg) {
    throw new MeridianError('BAD_ARGUMENT', `unknown TSIG algorithm ${key.algorithm}`, [
      `known: ${Object.keys(TSIG_ALGORITHMS).join(', ')}`,
    ]);
  }
  const id = randomInt(0, 0x10000);
  const updates = ops.map((o) =>
    o.op === 'delete'
      ? rr(o.name, TYPE_CODES[o.type], CLASS_ANY, 0, Buffer.alloc(0))
      : rr(o.name, TYPE_CODES[o.type], CLASS_IN, o.ttl, rdata(o.type, o.value)),
  );
  const header = (adCount: number) =>
    Buffer.concat([u16(id), u16(5 << 11), u16(1), u16(0), u16(updates.length), u16(adCount)]);
  const body = Buffer.concat([nameWire(zone), u16(TYPE_CODES.SOA), u16(CLASS_IN), ...updates]);
  const seconds = Math.floor(now / 1000);
  const time = Buffer.concat([u16(Math.floor(seconds / 2 ** 32)), u32(seconds >>> 0)]);
  const fudge = u16(300);
  const variables = Buffer.concat([
    nameWire(key.name),
    u16(CLASS_ANY),
    u32(0),
    nameWire(alg.wire),
    time,
    fudge,
    u16(0), // error
    u16(0), // other len
  ]);
  const mac = createHmac(alg.hash, Buffer.from(key.secret, 'base64'))
    .update(Buffer.concat([header(0), body, variables]))
    .digest();
  const tsigData = Buffer.concat([
    nameWire(alg.wire),
    time,
    fudge,
    u16(mac.length),
    mac,
    u16(id),
    u16(0),
    u16(0),
  ]);
  return { message: Buffer.concat([header(1), body, rr(key.name, TYPE_TSIG, CLASS_ANY, 0, tsigData)]), mac };
}

function skipName(buf: Buffer, at: number): number {
  let i = at;
  while (i < buf.length) {
    const len = buf[i];
    if (len === 0) return i + 1;
    if ((len & 0xc0) === 0xc0) return i + 2;
    i += len + 1;
  }
  return i;
}

export interface ReplyStatus {
  rcode: number;
  /** The TSIG error field, when the reply carries a TSIG record. */
  tsigError?: number;
  /** True when the reply is signed with the key and its MAC checks out (RFC 8945 section 5.3). */
  signed: boolean;
}

/** RCODE of a reply to a signed request, its TSIG error, and whether its signature verifies. */
export function replyStatus(buf: Buffer, key: TsigKey, requestMac: Buffer): ReplyStatus {
  const rcode = buf[3] & 0x0f;
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let at = 12;
  for (let q = 0; q < counts[0]; q++) at = skipName(buf, at) + 4;
  const total = counts[1] + counts[2] + counts[3];
  for (let n = 0; n < total && at < buf.length; n++) {
    const start = at;
    at = skipName(buf, at);
    const type = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 8);
    const data = buf.subarray(at + 10, at + 10 + len);
    at += 10 + len;
    if (type !== TYPE_TSIG || n !== total - 1) continue;
    const algEnd = skipName(data, 0);
    const macLen = data.readUInt16BE(algEnd + 8);
    const mac = data.subarray(algEnd + 10, algEnd + 10 + macLen);
    const after = algEnd + 10 + macLen; // original id, error, other len, other data
    const tsigError = data.readUInt16BE(after + 2);
    const alg = TSIG_ALGORITHMS[key.algorithm];
    if (macLen === 0 || !alg) return { rcode, tsigError, signed: false };
    const unsigned = Buffer.from(buf.subarray(0, start));
    unsigned.writeUInt16BE(counts[3] - 1, 10);
    unsigned.writeUInt16BE(data.readUInt16BE(after), 0);
    const variables = Buffer.concat([
      nameWire(key.name),
      u16(CLASS_ANY),
      u32(0),
      nameWire(alg.wire),
      data.subarray(algEnd, algEnd + 8), // time signed, fudge
      data.subarray(after + 2), // error, other len, other data
    ]);
    const expected = createHmac(alg.hash, Buffer.from(key.secret, 'base64'))
      .update(Buffer.concat([u16(requestMac.length), requestMac, unsigned, variables]))
      .digest();
    const signed = expected.length === mac.length && timingSafeEqual(expected, mac);
    return { rcode, tsigError, signed };
  }
  return { rcode, signed: false };
}
