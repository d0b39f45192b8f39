// Reading queries off the wire, by hand: every length is checked against the
// buffer before it is used, so no input can read past the end, loop, or throw.

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

export const CLASS_IN = 1;
export const CLASS_ANY = 255;
export const ECS_OPTION = 8;

/** EDNS Client Subnet as the query stated it (RFC 7871). */
export interface ClientSubnet {
  family: 1 | 2;
  sourcePrefix: number;
  /** The address bytes as sent: ceil(sourcePrefix / 8) of them. */
  address: Uint8Array;
}

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  ecs: ClientSubnet | null;
}

export interface Query {
  /** Offset just past the question: header and question are copied from here into the response. */
  questionEnd: number;
  /** The question name in wire form, lower-cased (latin1, one char per byte): the table key. */
  key: string;
  qtype: number;
  qclass: number;
  edns: Edns | null;
}

/** Why a message gets no normal answer: drop it silently, or answer with this RCODE and no question. */
export type Rejection = { drop: true } | { drop: false; rcode: number };

const DROP: Rejection = { drop: true };
const FORMERR: Rejection = { drop: false, rcode: RCODE.FORMERR };
const NOTIMP: Rejection = { drop: false, rcode: RCODE.NOTIMP };

export const isRejection = (r: Query | Rejection): r is Rejection => 'drop' in r;

/** Parses a query. Responses and runts are dropped; anything malformed is FORMERR. */
export function parseQuery(msg: Uint8Array): Query | Rejection {
  const len = msg.length;
  if (len < 12) return DROP;
  if (msg[2] & 0x80) return DROP; // a response: answering it could start a loop
  if ((msg[2] >> 3) & 0x0f) return NOTIMP;
  const qd = (msg[4] << 8) | msg[5];
  const an = (msg[6] << 8) | msg[7];
  const ns = (msg[8] << 8) | msg[9];
  const ar = (msg[10] << 8) | msg[11];
  if (qd !== 1 || an !== 0 || ns !== 0) return FORMERR;

  // The question name: plain labels only (a pointer has nothing to point at yet).
  let pos = 12;
  for (;;) {
    if (pos >= len) return FORMERR;
    const l = msg[pos];
    if (l === 0) break;
    if (l > 63) return FORMERR;
    pos += l + 1;
    if (pos - 12 > 254) return FORMERR;
  }
  const nameEnd = pos + 1;
  const questionEnd = nameEnd + 4;
  if (questionEnd > len) return FORMERR;
  const key = latin1Lower(msg, 12, nameEnd);
  const qtype = (msg[nameEnd] << 8) | msg[nameEnd + 1];
  const qclass = (msg[nameEnd + 2] << 8) | msg[nameEnd + 3];

  let edns: Edns | null = null;
  pos = questionEnd;
  for (let i = 0; i < ar; i++) {
    const owner = pos;
    pos = skipName(msg, pos);
    if (pos < 0 || pos + 10 > len) return FORMERR;
    const type = (msg[pos] << 8) | msg[pos + 1];
    const rdlen = (msg[pos + 8] << 8) | msg[pos + 9];
    const rdata = pos + 10;
    if (rdata + rdlen > len) return FORMERR;
    if (type === TYPE.OPT) {
      if (edns !== null || msg[owner] !== 0) return FORMERR;
      const parsed = parseOpt(msg, pos, rdata, rdata + rdlen);
      if (parsed === null) return FORMERR;
      edns = parsed;
    }
    pos = rdata + rdlen;
  }
  return { questionEnd, key, qtype, qclass, edns };
}

/** Offset past a name that may end in a compression pointer; -1 when it runs off the end. Never follows pointers. */
function skipName(msg: Uint8Array, start: number): number {
  let pos = start;
  for (;;) {
    if (pos >= msg.length) return -1;
    const l = msg[pos];
    if (l === 0) return pos + 1;
    if ((l & 0xc0) === 0xc0) return pos + 2 <= msg.length ? pos + 2 : -1;
    if (l > 63) return -1;
    pos += l + 1;
  }
}

function parseOpt(msg: Uint8Array, pos: number, start: number, end: number): Edns | null {
  const udpSize = Math.max(512, (msg[pos + 2] << 8) | msg[pos + 3]);
  const version = msg[pos + 5];
  const dnssecOk = (msg[pos + 6] & 0x80) !== 0;
  let ecs: ClientSubnet | null = null;
  let p = start;
  while (p < end) {
    if (p + 4 > end) return null;
    const code = (msg[p] << 8) | msg[p + 1];
    const olen = (msg[p + 2] << 8) | msg[p + 3];
    const data = p + 4;
    if (data + olen > end) return null;
    if (code === ECS_OPTION) {
      if (ecs !== null) return null;
      ecs = parseEcs(msg, data, olen);
      if (ecs === null) return null;
    }
    p = data + olen;
  }
  return { udpSize, version, dnssecOk, ecs };
}

/** RFC 7871 section 6: a bad family, a prefix too long, a non-zero scope or stray bits are FORMERR. */
function parseEcs(msg: Uint8Array, start: number, olen: number): ClientSubnet | null {
  if (olen < 4) return null;
  const family = (msg[start] << 8) | msg[start + 1];
  const sourcePrefix = msg[start + 2];
  const scope = msg[start + 3];
  if (family !== 1 && family !== 2) return null;
  if (sourcePrefix > (family === 1 ? 32 : 128) || scope !== 0) return null;
  const bytes = (sourcePrefix + 7) >> 3;
  if (olen - 4 !== bytes) return null;
  const address = msg.slice(start + 4, start + 4 + bytes);
  if (sourcePrefix % 8 !== 0 && bytes > 0 && (address[bytes - 1] & (0xff >> (sourcePrefix % 8))) !== 0) {
    return null;
  }
  return { family, sourcePrefix, address };
}

const NON_ASCII = /[\x80-\xff]/;

/** Bytes as a latin1 string with ASCII A-Z lowered: DNS names compare case-insensitively in ASCII only. */
export function latin1Lower(msg: Uint8Array, start: number, end: number): string {
  const buf = Buffer.isBuffer(msg) ? msg : Buffer.from(msg.buffer, msg.byteOffset, msg.length);
  const s = buf.toString('latin1', start, end);
  if (!NON_ASCII.test(s)) return s.toLowerCase();
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return out;
}

/** "api.example.com" -> wire form ("\x03api\x07example\x03com\x00"), lower-cased. */
export function nameToWire(name: string): string {
  const trimmed = name.replace(/\.$/, '').toLowerCase();
  if (trimmed === '') return '\0';
  return `${trimmed
    .split('.')
    .map((l) => String.fromCharCode(l.length) + l)
    .join('')}\0`;
}

/** Wire form -> "api.example.com" (for logs and explanations). */
export function wireToName(wire: string): string {
  const labels: string[] = [];
  let pos = 0;
  while (pos < wire.length && wire.charCodeAt(pos) !== 0) {
    const l = wire.charCodeAt(pos);
    labels.push(wire.slice(pos + 1, pos + 1 + l));
    pos += l + 1;
  }
  return labels.join('.');
}

/** Offsets of every label start in a wire name, the root last. */
export function labelStarts(wire: string): number[] {
  const starts: number[] = [];
  let pos = 0;
  while (pos < wire.length) {
    starts.push(pos);
    const l = wire.charCodeAt(pos);
    if (l === 0) break;
    pos += l + 1;
  }
  return starts;
}

/** True when `wire` is `apex` or below it, on a label boundary. */
export function isInZone(wire: string, apex: string): boolean {
  if (!wire.endsWith(apex)) return false;
  const target = wire.length - apex.length;
  let pos = 0;
  while (pos < target) pos += wire.charCodeAt(pos) + 1;
  return pos === target;
}
