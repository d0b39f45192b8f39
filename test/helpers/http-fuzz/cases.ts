// Request heads for the differential HTTP fuzzer: well-formed heads built
// from pools of methods, targets, versions and header lines (the fast path's
// happy shapes and the smuggling shapes), then 0-3 byte- and line-level
// mutations. Deterministic for a seed (xorshift32).

import { Rng } from '../rng.js';

export { Rng };

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'get', 'GETX', 'CONNECT'];
const TARGETS = [
  '/',
  '/a',
  '/a/b?c=d&e=f',
  '/%2e%2e/x',
  '/a;b',
  '//x',
  '*',
  'http://other.example/',
  'a',
  '/\u00e9',
  '/a#frag',
  `/${'x'.repeat(200)}`,
];
const VERSIONS = [
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/1.2',
  'HTTP/2.0',
  'http/1.1',
  'HTTP/1.10',
];
const LINES = [
  'Host: api.example.com',
  'Host: api.example.com:8080',
  'host:api.example.com',
  'HOST:  api.example.com  ',
  'Host:',
  'User-Agent: fuzz/1.0',
  'Accept: */*',
  'Accept-Encoding: gzip, br',
  'Cookie: a=b; c="d"',
  'X-Empty:',
  'X-Tabs:\tv\t',
  'X-Quote: "a,b"',
  "X-Token: !#$%&'*+-.^_`|~",
  'X_Under: 1',
  'Connection: close',
  'Connection: keep-alive',
  'Connection: Close',
  'Connection: close, x-a',
  'Connection: close\t',
  'Connection: keep-alive ',
  'Connection: upgrade',
  'Keep-Alive: timeout=5',
  'Content-Length: 0',
  'Content-Length: 5',
  'Content-Length: 05',
  'Content-Length: -1',
  'Content-Length: 1, 1',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: Chunked',
  'Transfer-Encoding: chunked, identity',
  'Transfer-Encoding: xchunked',
  'Transfer_Encoding: chunked',
  'Expect: 100-continue',
  'Upgrade: h2c',
  'TE: trailers',
  'Trailer: x',
  'X-Meridian-Hop: 1',
  `X-Long: ${'v'.repeat(1000)}`,
];
const BYTES = [0, 9, 10, 11, 12, 13, 32, 34, 44, 58, 59, 127, 128, 133, 160, 255, 97, 47, 63, 37, 72];

function wellFormed(rng: Rng): string {
  const method = rng.chance(0.85) ? rng.pick(['GET', 'GET', 'HEAD']) : rng.pick(METHODS);
  const target = rng.chance(0.7) ? rng.pick(TARGETS.slice(0, 6)) : rng.pick(TARGETS);
  const version = rng.chance(0.8) ? 'HTTP/1.1' : rng.pick(VERSIONS);
  const lines = [`${method} ${target} ${version}`];
  if (rng.chance(0.9)) lines.push('Host: api.example.com');
  const n = rng.int(7);
  for (let i = 0; i < n; i++) lines.push(rng.chance(0.5) ? rng.pick(LINES.slice(5, 14)) : rng.pick(LINES));
  if (rng.chance(0.05)) for (let i = 0; i < 100 + rng.int(10); i++) lines.push(`X-H${i}: ${i}`);
  let head = `${lines.join('\r\n')}\r\n\r\n`;
  if (rng.chance(0.1))
    head += rng.pick(['GET /next HTTP/1.1\r\nHost: x\r\n\r\n', 'abc', '0\r\n\r\n', '\r\n']);
  return head;
}

type Mutation = (s: string, rng: Rng) => string;
const at = (s: string, rng: Rng) => rng.int(s.length + 1);
const byte = (rng: Rng) => String.fromCharCode(rng.chance(0.8) ? rng.pick(BYTES) : rng.int(256));
const lineStarts = (s: string) => [...s.matchAll(/\r?\n/g)].map((m) => m.index! + m[0].length);

const MUTATIONS: Mutation[] = [
  (s, rng) => {
    const i = rng.int(s.length);
    return s.slice(0, i) + byte(rng) + s.slice(i + 1);
  },
  (s, rng) => {
    const i = at(s, rng);
    return s.slice(0, i) + byte(rng) + s.slice(i);
  },
  (s, rng) => {
    const i = rng.int(s.length);
    return s.slice(0, i) + s.slice(i + 1 + rng.int(3));
  },
  (s, rng) => {
    // One CRLF becomes a bare LF (or a bare CR).
    const crlfs = [...s.matchAll(/\r\n/g)].map((m) => m.index!);
    if (crlfs.length === 0) return s;
    const i = rng.pick(crlfs);
    return s.slice(0, i) + (rng.chance(0.8) ? '\n' : '\r') + s.slice(i + 2);
  },
  (s, rng) => {
    // Whitespace before a colon or at the start of a line (obs-fold).
    const colon = s.indexOf(':', rng.int(s.length));
    if (colon < 0 || rng.chance(0.5)) {
      const i = rng.pick(lineStarts(s).concat([0]));
      return s.slice(0, i) + rng.pick([' ', '\t']) + s.slice(i);
    }
    return s.slice(0, colon) + rng.pick([' ', '\t']) + s.slice(colon);
  },
  (s, rng) => {
    // Duplicate a header line.
    const lines = s.split('\r\n');
    if (lines.length < 3) return s;
    const i = 1 + rng.int(lines.length - 2);
    lines.splice(i, 0, lines[i]);
    return lines.join('\r\n');
  },
  (s, rng) => {
    // Insert a header line from the pool after the request line.
    const i = s.indexOf('\r\n');
    return i < 0 ? s : `${s.slice(0, i + 2)}${rng.pick(LINES)}\r\n${s.slice(i + 2)}`;
  },
  (s, rng) => {
    // Flip the case of an ASCII letter.
    const i = rng.int(s.length);
    const c = s.charCodeAt(i);
    const isLetter = (c | 32) >= 97 && (c | 32) <= 122;
    return isLetter ? s.slice(0, i) + String.fromCharCode(c ^ 32) + s.slice(i + 1) : s;
  },
  (s, rng) => s.slice(0, at(s, rng)),
];

/** One fuzz case: a well-formed head (sometimes with bytes after it), mutated 0-3 times. */
export function fuzzCase(rng: Rng): Buffer {
  let s = wellFormed(rng);
  const n = rng.chance(0.4) ? 0 : 1 + rng.int(3);
  for (let i = 0; i < n && s.length > 0; i++) s = rng.pick(MUTATIONS)(s, rng);
  return Buffer.from(s, 'latin1');
}
