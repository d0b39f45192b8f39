// Hostile DNS messages, from one seed: random bytes, mutated valid queries,
// hand-broken packets, and structure-aware ones (ECS, OPT, compression,
// counts). Shared by test/dns-fuzz.test.ts and `npm run bench -- fuzz-dns`.
import packet from 'dns-packet';
import { Rng } from './helpers/rng.js';

export class DnsFuzzer {
  private readonly rng: Rng;

  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
  }

  /** 0 <= result < n, the same every run for a given seed. */
  rnd(n: number): number {
    return this.rng.int(n);
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.rnd(256);
    return b;
  }

  header(qd: number, an: number, ns: number, ar: number): Buffer {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(this.rnd(65536), 0);
    h[2] = 0x01;
    h.writeUInt16BE(qd, 4);
    h.writeUInt16BE(an, 6);
    h.writeUInt16BE(ns, 8);
    h.writeUInt16BE(ar, 10);
    return h;
  }

  /** One of the three kinds the fuzz test has always sent, in turn by `i`. */
  next(i: number): {
    input: Buffer;
    kind: 'random' | 'mutated' | 'broken' | 'structured';
    mustFail: boolean;
  } {
    const which = i % 4;
    if (which === 0) return { input: this.bytes(this.rnd(600)), kind: 'random', mustFail: false };
    if (which === 1) return { input: this.mutated(), kind: 'mutated', mustFail: false };
    if (which === 2) {
      const input = BROKEN[this.rnd(BROKEN.length)](this);
      return { input, kind: 'broken', mustFail: input.length >= 12 };
    }
    const s = STRUCTURED[this.rnd(STRUCTURED.length)](this);
    return { input: s.input, kind: 'structured', mustFail: s.mustFail && s.input.length >= 12 };
  }

  /** A valid query with a byte or a few changed, cut short, padded, or a header bit flipped. */
  mutated(): Buffer {
    const q = Buffer.from(validQuery(this.rnd(65536), 'api.example.com', this.rnd(2) === 0));
    const kind = this.rnd(4);
    if (kind === 0) for (let i = 0, n = 1 + this.rnd(4); i < n; i++) q[this.rnd(q.length)] = this.rnd(256);
    if (kind === 1) return q.subarray(0, this.rnd(q.length));
    if (kind === 2) return Buffer.concat([q, this.bytes(this.rnd(64))]);
    if (kind === 3) q[this.rnd(12)] ^= 1 << this.rnd(8);
    return q;
  }

  /** A TCP stream of `n` messages whose 2-byte length prefixes sometimes lie. */
  tcpStream(n: number): Buffer[] {
    const writes: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const body = this.next(i).input;
      const frame = Buffer.alloc(2 + body.length);
      const lie = this.rnd(8);
      // 0: longer than sent, 1: shorter, 2: zero, 3: one byte; else the truth.
      const length =
        lie === 0
          ? Math.min(65535, body.length + 1 + this.rnd(400))
          : lie === 1
            ? this.rnd(body.length + 1)
            : lie === 2
              ? 0
              : lie === 3
                ? 1
                : body.length;
      frame.writeUInt16BE(length, 0);
      body.copy(frame, 2);
      // Sometimes split one frame over two writes, even inside the length prefix.
      if (this.rnd(6) === 0 && frame.length > 1) {
        const at = 1 + this.rnd(frame.length - 1);
        writes.push(frame.subarray(0, at), frame.subarray(at));
      } else writes.push(frame);
    }
    return writes;
  }
}

export const QUESTION = Buffer.from('\x03api\x07example\x03com\x00\x00\x01\x00\x01', 'latin1');

export function validQuery(id: number, name = 'api.example.com', ecs = true): Buffer {
  return packet.encode({
    id,
    type: 'query',
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: 'A' }],
    additionals: ecs
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 1232,
            options: [{ code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '171.64.0.0' }],
          } as unknown as packet.Answer,
        ]
      : [],
  });
}

/** An OPT record: root owner unless given, `options` as its RDATA. */
function opt(options: Buffer, owner = Buffer.from([0]), version = 0, udpSize = 1232): Buffer {
  const rr = Buffer.alloc(owner.length + 10);
  owner.copy(rr, 0);
  let at = owner.length;
  rr.writeUInt16BE(41, at);
  rr.writeUInt16BE(udpSize, at + 2);
  rr[at + 5] = version;
  at += 8;
  rr.writeUInt16BE(options.length, at);
  return Buffer.concat([rr, options]);
}

function ecsOption(family: number, source: number, scope: number, address: Buffer, length?: number): Buffer {
  const o = Buffer.alloc(8);
  o.writeUInt16BE(8, 0);
  o.writeUInt16BE(length ?? 4 + address.length, 2);
  o.writeUInt16BE(family, 4);
  o[6] = source;
  o[7] = scope;
  return Buffer.concat([o, address]);
}

/** Packets that are malformed by construction: the only right answers are FORMERR or silence. */
const BROKEN: ((f: DnsFuzzer) => Buffer)[] = [
  // A header cut short, or a question cut anywhere.
  (f) => f.header(1, 0, 0, 0).subarray(0, f.rnd(12)),
  (f) => Buffer.concat([f.header(1, 0, 0, 0), QUESTION.subarray(0, f.rnd(QUESTION.length))]),
  // A label length running past the end.
  (f) => Buffer.concat([f.header(1, 0, 0, 0), Buffer.from([63 - f.rnd(10)]), f.bytes(f.rnd(20))]),
  // A compression pointer in the question (a loop to itself at offset 12).
  (f) => Buffer.concat([f.header(1, 0, 0, 0), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]),
  // Counts that lie: more records announced than present.
  (f) => Buffer.concat([f.header(1, 0, 0, 1 + f.rnd(60000)), QUESTION]),
  (f) => Buffer.concat([f.header(2 + f.rnd(100), 0, 0, 0), QUESTION]),
  // An additional record whose name is a pointer loop and whose data runs off the end.
  (f) =>
    Buffer.concat([
      f.header(1, 0, 0, 1),
      QUESTION,
      Buffer.from([0xc0, 29, 0, 41, 0x10, 0, 0, 0, 0, 0, 0xff, 0xff]),
    ]),
  // A huge OPT: rdlength 65535, a few bytes present; or options whose lengths overrun the record.
  (f) =>
    Buffer.concat([
      f.header(1, 0, 0, 1),
      QUESTION,
      Buffer.from([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0xff, 0xff]),
      f.bytes(f.rnd(200)),
    ]),
  (f) => Buffer.concat([f.header(1, 0, 0, 1), QUESTION, opt(Buffer.from([0, 8, 0xff, 0xf0, 0, 1, 24, 0]))]),
  // Two OPT records.
  (f) => Buffer.concat([f.header(1, 0, 0, 2), QUESTION, opt(Buffer.alloc(0)), opt(Buffer.alloc(0))]),
  // ECS with a bad family, a too-long prefix, a non-zero scope, or stray address bits.
  (f) => {
    const ecs = [
      ecsOption(3, 24, 0, Buffer.from([1, 2, 3])),
      ecsOption(1, 40, 0, Buffer.from([1, 2, 3, 4, 5])),
      ecsOption(1, 24, 8, Buffer.from([171, 64, 0])),
      ecsOption(1, 23, 0, Buffer.from([171, 64, 1])),
    ][f.rnd(4)];
    return Buffer.concat([f.header(1, 0, 0, 1), QUESTION, opt(ecs)]);
  },
];

/** Structure-aware cases: mostly broken (mustFail), some valid and unusual (answered normally). */
const STRUCTURED: ((f: DnsFuzzer) => { input: Buffer; mustFail: boolean })[] = [
  // ECS whose OPTION-LENGTH disagrees with its prefix, is under 4, or runs past the OPT.
  (f) => {
    const source = f.rnd(33);
    const bytes = (source + 7) >> 3;
    const wrong = [0, 1, 2, 3, 4 + bytes + 1 + f.rnd(8), Math.max(0, 4 + bytes - 1 - f.rnd(3))][f.rnd(6)];
    const addr = f
      .bytes(bytes)
      .map((b, i) => (i === bytes - 1 && source % 8 ? b & (0xff << (8 - (source % 8))) : b));
    const o = ecsOption(1, source, 0, Buffer.from(addr), wrong);
    return { input: Buffer.concat([f.header(1, 0, 0, 1), QUESTION, opt(o)]), mustFail: wrong !== 4 + bytes };
  },
  // ECS with any family (only 1 and 2 exist) or a prefix longer than the family allows.
  (f) => {
    const family = [0, 3, 0xffff, 1, 2][f.rnd(5)];
    const source = family === 2 ? 129 + f.rnd(127) : family === 1 ? 33 + f.rnd(223) : f.rnd(33);
    const bytes = Math.min(32, (source + 7) >> 3);
    const o = ecsOption(family, source, 0, Buffer.alloc(bytes));
    return { input: Buffer.concat([f.header(1, 0, 0, 1), QUESTION, opt(o)]), mustFail: true };
  },
  // Valid ECS, random family and prefix (including /0): answered.
  (f) => {
    const v6 = f.rnd(2) === 1;
    const source = f.rnd(v6 ? 129 : 33);
    const bytes = (source + 7) >> 3;
    const addr = f.bytes(bytes);
    if (source % 8 && bytes > 0) addr[bytes - 1] &= 0xff << (8 - (source % 8));
    const o = ecsOption(v6 ? 2 : 1, source, 0, addr);
    return { input: Buffer.concat([f.header(1, 0, 0, 1), QUESTION, opt(o)]), mustFail: false };
  },
  // Two ECS options in one OPT; or 2-5 OPT records.
  (f) => {
    const o = ecsOption(1, 24, 0, Buffer.from([171, 64, 0]));
    return {
      input: Buffer.concat([f.header(1, 0, 0, 1), QUESTION, opt(Buffer.concat([o, o]))]),
      mustFail: true,
    };
  },
  (f) => {
    const n = 2 + f.rnd(4);
    const opts = Array.from({ length: n }, () => opt(Buffer.alloc(0)));
    return { input: Buffer.concat([f.header(1, 0, 0, n), QUESTION, ...opts]), mustFail: true };
  },
  // OPT in the answer or authority section, or with a non-root owner.
  (f) => {
    const inAnswer = f.rnd(2) === 0;
    const h = f.header(1, inAnswer ? 1 : 0, inAnswer ? 0 : 1, 0);
    return { input: Buffer.concat([h, QUESTION, opt(Buffer.alloc(0))]), mustFail: true };
  },
  (f) => {
    const owner = [Buffer.from([0xc0, 12]), Buffer.from([1, 0x61, 0])][f.rnd(2)];
    return {
      input: Buffer.concat([f.header(1, 0, 0, 1), QUESTION, opt(Buffer.alloc(0), owner)]),
      mustFail: true,
    };
  },
  // Compression pointers: a loop between two names, forward pointers, pointers past the end.
  (f) => {
    const target = [QUESTION.length + 12 + 2, 12 + QUESTION.length, 0x3fff, 12 + f.rnd(40)][f.rnd(4)];
    const name = Buffer.from([0xc0 | (target >> 8), target & 0xff]);
    const loopBack = Buffer.from([0xc0, 12 + QUESTION.length]);
    const rr = Buffer.concat([name, loopBack, Buffer.from([0, 1, 0, 1, 0, 0, 0, 0, 0, 0])]);
    return { input: Buffer.concat([f.header(1, 0, 0, 1 + f.rnd(3)), QUESTION, rr]), mustFail: false };
  },
  (f) => {
    // The question itself as a pointer (forward or to itself), or labels then a pointer.
    const q = [
      Buffer.from([0xc0, 12]),
      Buffer.from([0xc0, 18, 0, 1, 0, 1, 3, 0x61, 0x62, 0x63, 0]),
      Buffer.from([3, 0x61, 0x70, 0x69, 0xc0, 12]),
    ][f.rnd(3)];
    return { input: Buffer.concat([f.header(1, 0, 0, 0), q, Buffer.from([0, 1, 0, 1])]), mustFail: true };
  },
  // Truncated labels: a length past the end, over 63, or a name over 255 bytes.
  (f) => {
    const long = Buffer.concat([
      ...Array.from({ length: 5 }, () => Buffer.from([63, ...f.bytes(63)])),
      Buffer.from([0, 0, 1, 0, 1]),
    ]);
    const q = [Buffer.from([64 + f.rnd(128), 0x61, 0]), long, Buffer.from([10, 0x61, 0x62])][f.rnd(3)];
    return { input: Buffer.concat([f.header(1, 0, 0, 0), q]), mustFail: true };
  },
  // Huge counts in any section.
  (f) => {
    const big = () => 0xff00 + f.rnd(256);
    const h = [
      f.header(big(), 0, 0, 0),
      f.header(1, big(), 0, 0),
      f.header(1, 0, big(), 0),
      f.header(1, 0, 0, big()),
    ][f.rnd(4)];
    return { input: Buffer.concat([h, QUESTION, f.bytes(f.rnd(100))]), mustFail: true };
  },
  // Odd but valid: EDNS version > 0 (BADVERS), any qtype and class, tiny or huge payload sizes.
  (f) => {
    const q = Buffer.from(QUESTION);
    q.writeUInt16BE(f.rnd(65536), q.length - 4);
    if (f.rnd(4) === 0) q.writeUInt16BE(f.rnd(65536), q.length - 2);
    const o = opt(Buffer.alloc(0), undefined, f.rnd(3) === 0 ? 1 + f.rnd(255) : 0, f.rnd(65536));
    return { input: Buffer.concat([f.header(1, 0, 0, 1), q, o]), mustFail: false };
  },
];
