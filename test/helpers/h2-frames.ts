// Raw HTTP/2 frames on a socket, for attacks a well-behaved client library
// will not send (RFC 9113 frames, RFC 7541 HPACK without Huffman).
import { connect, type Socket } from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const DATA = 0x0;
export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PING = 0x6;
export const GOAWAY = 0x7;
export const CONTINUATION = 0x9;

export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;

export const CANCEL = 0x8;
export const REFUSED_STREAM = 0x7;
export const ENHANCE_YOUR_CALM = 0xb;

export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export const settings = (entries: [number, number][] = []) => {
  const p = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(SETTINGS, 0, 0, p);
};

export const rst = (stream: number, code = CANCEL) => {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(RST_STREAM, 0, stream, p);
};

export const ping = () => frame(PING, 0, 0, Buffer.alloc(8));

/** An HPACK integer with an N-bit prefix, the first byte's high bits from `mask`. */
function hpackInt(value: number, prefix: number, mask: number): Buffer {
  const max = (1 << prefix) - 1;
  if (value < max) return Buffer.from([mask | value]);
  const out = [mask | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

const hpackString = (s: string) => Buffer.concat([hpackInt(Buffer.byteLength(s), 7, 0), Buffer.from(s)]);

/** A literal field without indexing, new name (RFC 7541 6.2.2). */
export const literal = (name: string, value: string) =>
  Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);

/** A literal field with incremental indexing, new name: it enters the dynamic table (6.2.1). */
export const literalIndexed = (name: string, value: string) =>
  Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);

/** An indexed field (6.1): 62 is the newest dynamic table entry. */
export const indexed = (index: number) => hpackInt(index, 7, 0x80);

export const requestBlock = (path: string, authority = 'api.example.com', method = 'GET') =>
  Buffer.concat([
    literal(':method', method),
    literal(':scheme', 'http'),
    literal(':path', path),
    literal(':authority', authority),
  ]);

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** A raw h2c connection: frames written as given, frames read parsed. */
export class RawH2 {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  /** ackSettings: acknowledge the server's SETTINGS as a real client must (then its limits apply). */
  constructor(port: number, ackSettings = true) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 9) {
        const len = this.buf.readUIntBE(0, 3);
        if (this.buf.length < 9 + len) break;
        this.frames.push({
          type: this.buf[3],
          flags: this.buf[4],
          stream: this.buf.readUInt32BE(5) & 0x7fffffff,
          payload: this.buf.subarray(9, 9 + len),
        });
        this.buf = this.buf.subarray(9 + len);
        const f = this.frames[this.frames.length - 1];
        if (ackSettings && f.type === SETTINGS && (f.flags & ACK) === 0) this.write(frame(SETTINGS, ACK, 0));
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((r) => this.socket.once('close', () => r()));
    this.socket.once('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The preface and an empty SETTINGS, as every client starts. */
  start(): this {
    this.write(Buffer.concat([PREFACE, settings()]));
    return this;
  }

  write(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  /** The first frame matching, or null when the connection closes (or `ms` pass) first. */
  async waitFrame(match: (f: Frame) => boolean, ms = 5000): Promise<Frame | null> {
    const until = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(match);
      if (f) return f;
      if (this.socket.destroyed || this.socket.readableEnded || Date.now() > until) return null;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50).unref();
      });
    }
  }

  goaway(): Frame | undefined {
    return this.frames.find((f) => f.type === GOAWAY);
  }

  static goawayCode(f: Frame): number {
    return f.payload.readUInt32BE(4);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A dynamic table size update (RFC 7541 6.3), at the start of a header block. */
export const tableSizeUpdate = (size: number) => hpackInt(size, 5, 0x20);
