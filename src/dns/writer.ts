// Writing DNS messages with name compression. Used when answers are compiled
// (once per name, type and region), never on the per-query path.
import { labelStarts } from './wire.js';

export class Writer {
  private buf = Buffer.alloc(512);
  length = 0;
  /** Wire name suffix (lower-case) -> offset where it was written. */
  private readonly names = new Map<string, number>();

  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number) {
    this.room(1);
    this.buf[this.length++] = v;
  }

  u16(v: number) {
    this.room(2);
    this.buf.writeUInt16BE(v, this.length);
    this.length += 2;
  }

  u32(v: number) {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }

  bytes(b: Uint8Array) {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Writes a wire-form name, pointing at an earlier copy of its longest known suffix. */
  name(wire: string, compress = true) {
    for (const start of labelStarts(wire)) {
      const suffix = wire.slice(start);
      if (suffix === '\0') break;
      const at = compress ? this.names.get(suffix) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.length < 0x3fff) this.names.set(suffix, this.length);
      const l = wire.charCodeAt(start);
      this.room(l + 1);
      this.buf.write(wire.slice(start, start + l + 1), this.length, 'latin1');
      this.length += l + 1;
    }
    this.u8(0);
  }

  /** Writes a 16-bit length, then whatever `fill` writes, then patches the length in. */
  sized(fill: () => void) {
    const at = this.length;
    this.u16(0);
    fill();
    this.buf.writeUInt16BE(this.length - at - 2, at);
  }

  at(offset: number): number {
    return this.buf[offset];
  }

  patch16(offset: number, v: number) {
    this.buf.writeUInt16BE(v, offset);
  }

  /** A copy of the bytes from `start` to the end. */
  slice(start = 0): Buffer {
    return Buffer.from(this.buf.subarray(start, this.length));
  }
}
