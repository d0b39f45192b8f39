// TSIG (RFC 8945): the MAC over a message's wire bytes, for a request and for
// the reply to it. The messages themselves are written with src/dns/writer.ts
// and read with dns-packet; neither computes a TSIG MAC.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CLASS_ANY, nameToWire } from '../dns/wire.js';
import { Writer } from '../dns/writer.js';
import { MeridianError } from '../errors.js';

export const TSIG_ALGORITHMS: Record<string, { wire: string; hash: string }> = {
  'hmac-sha256': { wire: 'hmac-sha256', hash: 'sha256' },
  'hmac-sha512': { wire: 'hmac-sha512', hash: 'sha512' },
  'hmac-sha384': { wire: 'hmac-sha384', hash: 'sha384' },
  'hmac-sha1': { wire: 'hmac-sha1', hash: 'sha1' },
  'hmac-md5': { wire: 'hmac-md5.sig-alg.reg.int', hash: 'md5' },
};

const TYPE_TSIG = 250;
const FUDGE_SECONDS = 300;

export interface TsigKey {
  name: string;
  algorithm: string;
  /** Base64 secret. */
  secret: string;
}

function algorithmOf(key: TsigKey) {
  const alg = TSIG_ALGORITHMS[key.algorithm];
  if (!alg) {
    throw new MeridianError('BAD_ARGUMENT', `unknown TSIG algorithm ${key.algorithm}`, [
      `known: ${Object.keys(TSIG_ALGORITHMS).join(', ')}`,
    ]);
  }
  return alg;
}

/** The MAC over `parts` followed by the TSIG variables (RFC 8945 section 4.3.3), names in canonical form. */
function mac(key: TsigKey, parts: Uint8Array[], timeAndFudge: Uint8Array, errorAndOther: Uint8Array): Buffer {
  const alg = algorithmOf(key);
  const v = new Writer();
  v.name(nameToWire(key.name), false);
  v.u16(CLASS_ANY);
  v.u32(0);
  v.name(nameToWire(alg.wire), false);
  v.bytes(timeAndFudge);
  v.bytes(errorAndOther);
  const hmac = createHmac(alg.hash, Buffer.from(key.secret, 'base64'));
  for (const p of parts) hmac.update(p);
  return hmac.update(v.slice()).digest();
}

/**
 * Signs the message `w` holds (RFC 8945 section 5.1): appends the TSIG record
 * and counts it in ARCOUNT. Returns the MAC, which the reply's MAC covers.
 */
export function sign(w: Writer, key: TsigKey, now = Date.now()): Buffer {
  const alg = algorithmOf(key);
  const seconds = Math.floor(now / 1000);
  const timeAndFudge = Buffer.alloc(8);
  timeAndFudge.writeUIntBE(seconds, 0, 6);
  timeAndFudge.writeUInt16BE(FUDGE_SECONDS, 6);
  const message = w.slice();
  const digest = mac(key, [message], timeAndFudge, Buffer.alloc(4));
  // Uncompressed: RFC 3597 section 4 forbids compression inside TSIG's data.
  w.name(nameToWire(key.name), false);
  w.u16(TYPE_TSIG);
  w.u16(CLASS_ANY);
  w.u32(0);
  w.sized(() => {
    w.name(nameToWire(alg.wire), false);
    w.bytes(timeAndFudge);
    w.u16(digest.length);
    w.bytes(digest);
    w.bytes(message.subarray(0, 2)); // original id
    w.u16(0); // error
    w.u16(0); // other len
  });
  w.patch16(10, message.readUInt16BE(10) + 1);
  return digest;
}

export interface ReplyTsig {
  /** The TSIG error field (RFC 8945 section 5.3.2: BADSIG, BADKEY, BADTIME...). */
  error: number;
  /** True when the MAC checks out against the key and the request's MAC (RFC 8945 section 5.3). */
  signed: boolean;
}

/**
 * Checks the TSIG record that ends `reply`: `start` is where that record
 * begins, `owner` its name and `rdata` its data.
 */
export function verifyReply(
  reply: Buffer,
  start: number,
  owner: string,
  rdata: Buffer,
  key: TsigKey,
  requestMac: Buffer,
): ReplyTsig {
  const algorithm = nameToWire(algorithmOf(key).wire);
  // Algorithm name, time signed and fudge (8), MAC size (2), MAC, original id (2), error (2), other len (2).
  const at = algorithm.length;
  if (rdata.length < at + 10 || rdata.toString('latin1', 0, at).toLowerCase() !== algorithm)
    return { error: 0, signed: false };
  const macLen = rdata.readUInt16BE(at + 8);
  const after = at + 10 + macLen;
  if (rdata.length < after + 6) return { error: 0, signed: false };
  const error = rdata.readUInt16BE(after + 2);
  if (macLen === 0 || nameToWire(owner) !== nameToWire(key.name)) return { error, signed: false };
  const unsigned = Buffer.from(reply.subarray(0, start));
  unsigned.writeUInt16BE(reply.readUInt16BE(10) - 1, 10);
  unsigned.writeUInt16BE(rdata.readUInt16BE(after), 0);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(requestMac.length);
  const expected = mac(
    key,
    [length, requestMac, unsigned],
    rdata.subarray(at, at + 8),
    rdata.subarray(after + 2),
  );
  const got = rdata.subarray(at + 10, after);
  return { error, signed: expected.length === got.length && timingSafeEqual(expected, got) };
}
