import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseParseError, ResponseParser } from './response-parser.js';

interface Parsed {
  status: number;
  headers: string[];
  keepAlive: boolean;
  body: string;
  ended: boolean;
  rest: number;
}

/** Feeds `text` in pieces of `step` bytes (every split point matters for a streaming parser). */
function parse(text: string, step: number, head = false, eof = false): Parsed {
  const out: Parsed = { status: 0, headers: [], keepAlive: false, body: '', ended: false, rest: -1 };
  const p = new ResponseParser({
    head(status, headers, keepAlive) {
      Object.assign(out, { status, headers, keepAlive });
      return true;
    },
    body(chunk) {
      out.body += chunk.toString('latin1');
    },
    end(rest) {
      out.ended = true;
      out.rest = rest;
    },
  });
  p.reset(head);
  const buf = Buffer.from(text, 'latin1');
  for (let i = 0; i < buf.length && !out.ended; i += step) p.execute(buf.subarray(i, i + step));
  if (eof) p.eof();
  return out;
}

const ok = [
  {
    name: 'Content-Length',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b \r\n\r\nhello',
    expect: { status: 200, body: 'hello', keepAlive: true, headers: ['Content-Length', '5', 'X-A', 'b'] },
  },
  {
    name: 'chunked with extension and trailer',
    input:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n',
    expect: { status: 200, body: 'hello!', keepAlive: true },
  },
  {
    name: '100 Continue then the final head',
    input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    expect: { status: 201, body: 'ok' },
  },
  { name: '204 has no body', input: 'HTTP/1.1 204 No Content\r\n\r\n', expect: { status: 204, body: '' } },
  {
    name: '304 ignores Content-Length',
    input: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
    expect: { status: 304, body: '' },
  },
  {
    name: 'Connection: close is not kept alive',
    input: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx',
    expect: { keepAlive: false, body: 'x' },
  },
  {
    name: 'status line without a reason phrase',
    input: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n',
    expect: { status: 200, body: '' },
  },
  {
    name: 'identical Content-Length values',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab',
    expect: { body: 'ab' },
  },
];

for (const c of ok) {
  test(`response parser: ${c.name}`, () => {
    for (const step of [1, 3, 7, 1000]) {
      const r = parse(c.input, step);
      assert.equal(r.ended, true, `step ${step}`);
      for (const [k, v] of Object.entries(c.expect))
        assert.deepEqual(r[k as keyof Parsed], v, `${k}, step ${step}`);
    }
  });
}

test('response parser: a response to HEAD has no body whatever its head says', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', 1000, true);
  assert.equal(r.ended, true);
  assert.equal(r.body, '');
});

test('response parser: no length means the body runs to the close and the connection is not reused', () => {
  const r = parse('HTTP/1.1 200 OK\r\n\r\nuntil close', 4, false, true);
  assert.deepEqual([r.ended, r.body, r.keepAlive], [true, 'until close', false]);
});

test('response parser: bytes after a complete response are reported', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA', 1000);
  assert.equal(r.rest, 5);
});

const garbage = [
  { name: 'not HTTP', input: 'hello there\r\n\r\n' },
  { name: 'HTTP/2 status line', input: 'HTTP/2 200 OK\r\n\r\n' },
  { name: 'two-digit status', input: 'HTTP/1.1 20 OK\r\n\r\n' },
  { name: 'header without a colon', input: 'HTTP/1.1 200 OK\r\nNoColon\r\n\r\n' },
  { name: 'space in a header name', input: 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n' },
  { name: 'space before the colon', input: 'HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx' },
  { name: 'obs-fold', input: 'HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n' },
  { name: 'bare LF in a header', input: 'HTTP/1.1 200 OK\r\nX-A: b\nX-B: c\r\n\r\n' },
  { name: 'NUL in a value', input: 'HTTP/1.1 200 OK\r\nX-A: b\x00c\r\nContent-Length: 0\r\n\r\n' },
  {
    name: 'conflicting Content-Length',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx',
  },
  { name: 'negative Content-Length', input: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n' },
  {
    name: 'Content-Length and Transfer-Encoding',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  },
  { name: 'bad chunk size', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' },
  {
    name: 'chunk without CRLF',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n',
  },
  { name: '101 Switching Protocols', input: 'HTTP/1.1 101 Switching Protocols\r\n\r\n' },
];

for (const c of garbage) {
  test(`response parser refuses: ${c.name}`, () => {
    for (const step of [1, 1000])
      assert.throws(() => parse(c.input, step), ResponseParseError, `step ${step}`);
  });
}

test('response parser refuses a head that never ends', () => {
  assert.throws(() => parse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`, 1000), ResponseParseError);
});

test('an upgrade request: a 101 is the final head and every byte after it goes to body()', () => {
  for (const step of [1, 3, 1000]) {
    let status = 0;
    let body = '';
    const p = new ResponseParser({
      head(s) {
        status = s;
        return true;
      },
      body(chunk) {
        body += chunk.toString('latin1');
      },
      end() {},
    });
    p.reset(false, true);
    const buf = Buffer.from(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi',
      'latin1',
    );
    for (let i = 0; i < buf.length; i += step) p.execute(buf.subarray(i, i + step));
    assert.equal(status, 101);
    assert.equal(body, '\x81\x02hi', `step ${step}`);
  }
});
