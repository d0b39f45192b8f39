// WebSocket frames (RFC 6455 5.2) as far as the edge needs them: where one
// frame ends, so a close frame can be put between two frames. Payloads are
// never read, unmasked or checked: to the edge they are just bytes.

import { randomBytes } from 'node:crypto';

/** Close code 1001: the endpoint is going away (server shutting down, region evacuated). */
export const GOING_AWAY = 1001;

/**
 * Follows frame boundaries in one direction of a tunnel. A frame is a 2..14
 * byte header (length 7, 7+16 or 7+64 bits, optional 4-byte mask key) and
 * its payload; a length beyond 2^53 never ends, which only means no close
 * frame can be placed (the tunnel is then ended without one).
 */
export class FrameBoundary {
  /** Header bytes collected so far (0 at a boundary or inside a payload). */
  private have = 0;
  /** The header's length once its second byte is in (0 before). */
  private headerLength = 0;
  private readonly header = Buffer.alloc(14);
  private payloadLeft = 0;

  get atBoundary(): boolean {
    return this.have === 0 && this.payloadLeft === 0;
  }

  /**
   * Reads `chunk`; returns how many of its bytes were read. With `stop`, reading
   * stops at the first frame boundary (0 when already at one).
   */
  consume(chunk: Buffer, stop: boolean): number {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (stop && this.atBoundary) return i;
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, n - i);
        this.payloadLeft -= take;
        i += take;
        continue;
      }
      this.header[this.have++] = chunk[i++];
      if (this.have === 2) this.headerLength = headerLengthOf(this.header);
      if (this.have >= 2 && this.have === this.headerLength) {
        this.payloadLeft = payloadLengthOf(this.header);
        this.have = 0;
        this.headerLength = 0;
      }
    }
    return i;
  }
}

function headerLengthOf(h: Buffer): number {
  const code = h[1] & 0x7f;
  const masked = (h[1] & 0x80) !== 0 ? 4 : 0;
  return 2 + (code === 126 ? 2 : code === 127 ? 8 : 0) + masked;
}

function payloadLengthOf(h: Buffer): number {
  const code = h[1] & 0x7f;
  if (code < 126) return code;
  if (code === 126) return h.readUInt16BE(2);
  const high = h.readUInt32BE(2);
  // Past 2^53 a Number cannot count it down: such a frame never ends here.
  return high >= 0x200000 ? Number.POSITIVE_INFINITY : high * 2 ** 32 + h.readUInt32BE(6);
}

/** A close frame with `code`: unmasked from a server, masked (a fresh key) from a client (RFC 6455 5.3). */
export function closeFrame(code: number, masked: boolean): Buffer {
  const payload = Buffer.from([code >> 8, code & 0xff]);
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
  const key = randomBytes(4);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x88;
  out[1] = 0x80 | payload.length;
  key.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ key[i & 3];
  return out;
}
