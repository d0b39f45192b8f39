// RFC 2136 UPDATE messages, written with the DNS server's writer and signed
// with TSIG; replies read with dns-packet. Addresses are parsed by core.
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { parseIpv4, parseIpv6 } from '../core/ip.js';
import { CLASS_ANY, CLASS_IN, nameToWire, TYPE } from '../dns/wire.js';
import { Writer } from '../dns/writer.js';
import { MeridianError } from '../errors.js';
import type { RecordType } from './model.js';
import { sign, type TsigKey, verifyReply } from './tsig.js';

const OPCODE_UPDATE = 5;

export type UpdateOp =
  | { op: 'delete'; name: string; type: RecordType }
  | { op: 'add'; name: string; type: RecordType; ttl: number; value: string };

function address(bytes: Uint8Array | null, family: string, value: string): Uint8Array {
  if (!bytes) throw new MeridianError('BAD_ARGUMENT', `not an ${family} address: ${value}`);
  return bytes;
}

function writeRdata(w: Writer, type: RecordType, value: string) {
  switch (type) {
    case 'A':
      return w.bytes(address(parseIpv4(value), 'IPv4', value));
    case 'AAAA':
      return w.bytes(address(parseIpv6(value), 'IPv6', value));
    case 'CNAME':
      return w.name(nameToWire(value));
    case 'MX': {
      const [preference, exchange] = value.split(/\s+/);
      w.u16(Number(preference));
      return w.name(nameToWire(exchange));
    }
    case 'TXT': {
      // One record, its text cut into character-strings of at most 255 bytes.
      const bytes = Buffer.from(value, 'utf8');
      for (let i = 0; i < bytes.length || i === 0; i += 255) {
        const part = bytes.subarray(i, i + 255);
        w.u8(part.length);
        w.bytes(part);
      }
    }
  }
}

/** An UPDATE message for `zone`, signed with `key`; `mac` is needed to check the reply. */
export function updateMessage(
  zone: string,
  ops: readonly UpdateOp[],
  key: TsigKey,
  now = Date.now(),
): { message: Buffer; mac: Buffer } {
  const w = new Writer();
  w.u16(randomInt(0, 0x10000));
  w.u16(OPCODE_UPDATE << 11);
  w.u16(1); // zone
  w.u16(0); // prerequisites
  w.u16(ops.length); // updates
  w.u16(0); // additional, until the TSIG record
  w.name(nameToWire(zone));
  w.u16(TYPE.SOA);
  w.u16(CLASS_IN);
  for (const o of ops) {
    w.name(nameToWire(o.name));
    w.u16(TYPE[o.type]);
    if (o.op === 'delete') {
      // Delete an RRset (RFC 2136 section 2.5.2): class ANY, TTL 0, no data.
      w.u16(CLASS_ANY);
      w.u32(0);
      w.u16(0);
    } else {
      w.u16(CLASS_IN);
      w.u32(o.ttl);
      w.sized(() => writeRdata(w, o.type, o.value));
    }
  }
  const mac = sign(w, key, now);
  return { message: w.slice(), mac };
}

export interface ReplyStatus {
  /** As dns-packet names it: NOERROR, REFUSED, NOTAUTH... */
  rcode: string;
  /** The TSIG error field, when the reply carries a TSIG record. */
  tsigError?: number;
  /** True when the reply is signed with the key and its MAC checks out (RFC 8945 section 5.3). */
  signed: boolean;
}

/** RCODE of a reply to a signed request, its TSIG error, and whether its signature verifies; null when it does not parse. */
export function replyStatus(reply: Buffer, key: TsigKey, requestMac: Buffer): ReplyStatus | null {
  let packet: dnsPacket.DecodedPacket & { rcode?: string };
  try {
    packet = dnsPacket.decode(reply);
  } catch {
    return null;
  }
  const rcode = packet.rcode ?? 'NOERROR';
  const last = packet.additionals?.at(-1);
  if (last?.type !== 'TSIG') return { rcode, signed: false };
  // Where the TSIG record starts: how far the message reads without it.
  const withoutTsig = Buffer.from(reply);
  withoutTsig.writeUInt16BE(packet.additionals!.length - 1, 10);
  dnsPacket.decode(withoutTsig);
  const { error, signed } = verifyReply(reply, dnsPacket.decode.bytes, last.name, last.data, key, requestMac);
  return { rcode, tsigError: error, signed };
}
