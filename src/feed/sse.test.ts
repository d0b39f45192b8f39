import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from './sse.js';

const enc = (s: string) => new TextEncoder().encode(s);

const cases = [
  {
    name: 'one event in one chunk',
    input: ['event: snapshot\nid: 3\ndata: {"v":3}\n\n'],
    expect: [{ event: 'snapshot', id: '3', data: '{"v":3}' }],
  },
  {
    name: 'split across chunks, CRLF, comments and retry ignored',
    input: ['retry: 1000\r\n\r\n: ping\r\n\r\nevent: snap', 'shot\r\ndata: a\r\ndata: b\r\n', '\r\n'],
    expect: [{ event: 'snapshot', data: 'a\nb' }],
  },
];

for (const c of cases) {
  test(`SseParser: ${c.name}`, () => {
    const p = new SseParser();
    const out = c.input.flatMap((chunk) => p.push(enc(chunk)));
    assert.deepEqual(out, c.expect);
  });
}

test('SseParser: bytes of one character in two chunks', () => {
  const p = new SseParser();
  const bytes = enc('data: é\n\n');
  const out = [...p.push(bytes.slice(0, 7)), ...p.push(bytes.slice(7))];
  assert.deepEqual(out, [{ event: 'message', data: 'é' }]);
});
