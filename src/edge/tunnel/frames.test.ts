import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeFrame, FrameBoundary, GOING_AWAY } from './frames.js';

/** A frame as a peer would send it: FIN, opcode, length in 7, 16 or 64 bits, optional mask key. */
function frame(payloadLength: number, masked: boolean, opcode = 0x2): Buffer {
  const lengthBytes = payloadLength < 126 ? 0 : payloadLength < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  head[0] = 0x80 | opcode;
  const code = lengthBytes === 0 ? payloadLength : lengthBytes === 2 ? 126 : 127;
  head[1] = (masked ? 0x80 : 0) | code;
  if (lengthBytes === 2) head.writeUInt16BE(payloadLength, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(payloadLength), 2);
  return Buffer.concat([head, Buffer.alloc(payloadLength, 0x61)]);
}

const cases = [
  { name: 'empty payload', frames: [frame(0, false)] },
  { name: '7-bit length, masked', frames: [frame(125, true)] },
  { name: '16-bit length', frames: [frame(126, false), frame(65_535, true)] },
  { name: '64-bit length', frames: [frame(70_000, false)] },
  { name: 'several frames', frames: [frame(3, true), frame(0, true, 0x9), frame(300, true)] },
];

for (const c of cases) {
  test(`frame boundaries: ${c.name}`, () => {
    const bytes = Buffer.concat(c.frames);
    const ends: number[] = [];
    let at = 0;
    for (const f of c.frames) {
      at += f.length;
      ends.push(at);
    }
    // Byte by byte: the boundary is seen exactly at each frame's end.
    const f = new FrameBoundary();
    const seen: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      f.consume(bytes.subarray(i, i + 1), false);
      if (f.atBoundary) seen.push(i + 1);
    }
    assert.deepEqual(seen, ends);
    // In one read, stopping at boundaries: each stop is the end of the next frame.
    const g = new FrameBoundary();
    const stops: number[] = [];
    let off = 0;
    while (off < bytes.length) {
      // At a boundary a stopping read reads nothing: step into the next frame first.
      off += g.consume(bytes.subarray(off, off + 1), false);
      off += g.consume(bytes.subarray(off), true);
      stops.push(off);
    }
    assert.deepEqual(stops, ends);
  });
}

test('stop at a boundary reads nothing', () => {
  assert.equal(new FrameBoundary().consume(frame(3, false), true), 0);
});

test('a 64-bit length past 2^53 never ends: no boundary, no crash', () => {
  const head = Buffer.from([0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const f = new FrameBoundary();
  assert.equal(f.consume(head, false), head.length);
  assert.equal(f.consume(Buffer.alloc(1 << 20), true), 1 << 20);
  assert.equal(f.atBoundary, false);
});

test('close frames: 1001 unmasked from the server side, masked from the client side', () => {
  assert.deepEqual([...closeFrame(GOING_AWAY, false)], [0x88, 0x02, 0x03, 0xe9]);
  const masked = closeFrame(GOING_AWAY, true);
  assert.equal(masked[0], 0x88);
  assert.equal(masked[1], 0x82);
  const key = masked.subarray(2, 6);
  assert.deepEqual([masked[6] ^ key[0], masked[7] ^ key[1]], [0x03, 0xe9]);
});
