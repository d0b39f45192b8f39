// Building a response from the query's own header and question plus compiled
// bytes: one allocation and a few copies per query.
import type { Compiled } from './answers.js';
import { ECS_OPTION, type Edns, type Query, RCODE, TYPE } from './wire.js';

export const OUR_UDP_SIZE = 1232;

function optLength(edns: Edns | null): number {
  if (!edns) return 0;
  return 11 + (edns.ecs ? 8 + edns.ecs.address.length : 0);
}

/** The OPT record: our payload size, the extended RCODE, DO echoed, and a fresh ECS option (RFC 7871 7.2.1). */
function writeOpt(out: Buffer, at: number, edns: Edns, rcode: number, scope: number, udpSize: number) {
  out[at] = 0;
  out.writeUInt16BE(TYPE.OPT, at + 1);
  out.writeUInt16BE(udpSize, at + 3);
  out[at + 5] = rcode >> 4;
  out[at + 6] = 0; // version 0
  out[at + 7] = edns.dnssecOk ? 0x80 : 0;
  out[at + 8] = 0;
  const ecs = edns.ecs;
  if (!ecs) {
    out.writeUInt16BE(0, at + 9);
    return;
  }
  const n = ecs.address.length;
  out.writeUInt16BE(8 + n, at + 9);
  out.writeUInt16BE(ECS_OPTION, at + 11);
  out.writeUInt16BE(4 + n, at + 13);
  out.writeUInt16BE(ecs.family, at + 15);
  out[at + 17] = ecs.sourcePrefix;
  out[at + 18] = scope;
  out.set(ecs.address, at + 19);
}

/**
 * Header and question copied from the query, then the compiled sections and
 * OPT. When that does not fit in `limit` the sections are left out and TC is
 * set, so the client asks again over TCP.
 */
export function respond(
  msg: Buffer,
  q: Query,
  c: Compiled,
  authoritative: boolean,
  scope: number,
  limit: number,
  udpSize = OUR_UDP_SIZE,
): Buffer {
  const opt = optLength(q.edns);
  let size = q.questionEnd + c.body.length + opt;
  const truncated = size > limit;
  if (truncated) size = q.questionEnd + opt;
  const out = Buffer.allocUnsafe(size);
  msg.copy(out, 0, 0, q.questionEnd);
  out[2] = 0x80 | (authoritative ? 0x04 : 0) | (truncated ? 0x02 : 0) | (msg[2] & 0x01);
  out[3] = (msg[3] & 0x10) | (c.rcode & 0x0f);
  out[4] = 0;
  out[5] = 1;
  const an = truncated ? 0 : c.an;
  const ns = truncated ? 0 : c.ns;
  const ar = (truncated ? 0 : c.ar) + (opt > 0 ? 1 : 0);
  out.writeUInt16BE(an, 6);
  out.writeUInt16BE(ns, 8);
  out.writeUInt16BE(ar, 10);
  let at = q.questionEnd;
  if (!truncated) {
    c.body.copy(out, at);
    at += c.body.length;
  }
  if (q.edns) writeOpt(out, at, q.edns, c.rcode, scope, udpSize);
  return out;
}

const EMPTY = Buffer.alloc(0);

/** A response with no records: REFUSED, BADVERS, a rate-limit slip. */
export function bare(rcode: number): Compiled {
  return { rcode, an: 0, ns: 0, ar: 0, body: EMPTY };
}

/** FORMERR or NOTIMP for a query we cannot read: the header alone, ID and opcode kept. */
export function rejectHeader(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out[0] = msg[0];
  out[1] = msg[1];
  out[2] = 0x80 | (msg[2] & 0x78) | (msg[2] & 0x01);
  out[3] = rcode & 0x0f;
  return out;
}

export const BADVERS = bare(RCODE.BADVERS);
