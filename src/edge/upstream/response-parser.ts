// A strict HTTP/1.1 response parser for the upstream hop: one head, then the
// body framed by Content-Length, chunked coding or the connection's close
// (RFC 9112 6.3). Anything it does not understand is an error, so garbage
// from an origin becomes a 502 instead of reaching the client.

/** Why a response could not be parsed. */
export class ResponseParseError extends Error {}

export interface ResponseSink {
  /** A final (non-1xx) head. Returns false to stop parsing (the exchange was aborted). */
  head(status: number, headers: string[], keepAlive: boolean, keepAliveHintMs: number): boolean;
  body(chunk: Buffer): void;
  /** The message is complete; `rest` holds bytes that followed it (a misbehaving origin). */
  end(rest: number): void;
}

const MAX_HEAD = 64 * 1024;
const MAX_LINE = 4096;
const CLOSE_TOKEN = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;

/** RFC 9110 token characters (header names). */
const TOKEN_BYTE = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN_BYTE[c.charCodeAt(0)] = 1;
/** Bytes allowed in a header value or reason phrase: HTAB, SP, visible ASCII, obs-text. */
const VALUE_BYTE = new Uint8Array(256);
for (let b = 0; b < 256; b++) VALUE_BYTE[b] = b === 9 || (b >= 32 && b !== 127) ? 1 : 0;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const CHUNK_SIZE = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/;
const DIGITS = /^\d{1,15}$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|,)\s*timeout\s*=\s*(\d+)/i;

const HEAD = 0;
const LENGTH = 1;
const CHUNK_LINE = 2;
const CHUNK_DATA = 3;
const CHUNK_END = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;
const DONE = 7;
const STOP = 8;

const CRLFCRLF = Buffer.from('\r\n\r\n');

function bad(why: string): never {
  throw new ResponseParseError(why);
}

/** Spaces and tabs around a header value go (OWS); nothing else is trimmed. */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** The decimal number in buf[from, to), or -1 when it is not only digits (at most 15). */
function digitsValue(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

export class ResponseParser {
  private state = DONE;
  private pending: Buffer | null = null;
  private remaining = 0;
  private line = '';
  private noBody = false;
  private upgrade = false;

  constructor(private readonly sink: ResponseSink) {}

  /**
   * Starts a new message; a response to HEAD has no body whatever its head says.
   * `upgrade`: the request asked to switch protocols, so a 101 is a final head
   * and every byte after it goes to body() (src/edge/tunnel).
   */
  reset(headRequest: boolean, upgrade = false): void {
    this.state = HEAD;
    this.pending = null;
    this.line = '';
    this.noBody = headRequest;
    this.upgrade = upgrade;
  }

  get done(): boolean {
    return this.state === DONE;
  }

  /** The body runs until the connection closes. */
  get closeDelimited(): boolean {
    return this.state === UNTIL_CLOSE;
  }

  /** The connection closed: completes a close-delimited body; false when the message was cut short. */
  eof(): boolean {
    if (this.state !== UNTIL_CLOSE) return this.state === DONE;
    this.state = DONE;
    this.sink.end(0);
    return true;
  }

  execute(chunk: Buffer): void {
    let buf = chunk;
    let at = 0;
    while (at < buf.length) {
      switch (this.state) {
        case HEAD: {
          if (this.pending !== null) {
            buf = Buffer.concat([this.pending, buf.subarray(at)]);
            at = 0;
            this.pending = null;
          }
          const end = buf.indexOf(CRLFCRLF, at);
          if (end < 0) {
            if (buf.length - at > MAX_HEAD) bad('response head too large');
            this.pending = Buffer.from(buf.subarray(at));
            return;
          }
          if (end - at > MAX_HEAD) bad('response head too large');
          const next = this.parseHead(buf, at, end + 2);
          at = end + 4;
          if (next === STOP) return;
          if (next === DONE) {
            this.complete(buf.length - at);
            return;
          }
          break;
        }
        case LENGTH: {
          const n = Math.min(this.remaining, buf.length - at);
          this.remaining -= n;
          const part = at === 0 && n === buf.length ? buf : buf.subarray(at, at + n);
          at += n;
          this.sink.body(part);
          if (this.remaining === 0) {
            this.complete(buf.length - at);
            return;
          }
          break;
        }
        case UNTIL_CLOSE:
          this.sink.body(at === 0 ? buf : buf.subarray(at));
          return;
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, buf.length - at);
          this.remaining -= n;
          if (this.remaining === 0) this.state = CHUNK_END;
          const part = buf.subarray(at, at + n);
          at += n;
          this.sink.body(part);
          break;
        }
        case CHUNK_END: {
          // The CRLF after a chunk's data, possibly split across reads.
          const c = buf[at++];
          if (this.line === '' && c === 13) this.line = '\r';
          else if (this.line === '\r' && c === 10) {
            this.line = '';
            this.state = CHUNK_LINE;
          } else bad('chunk data not followed by CRLF');
          break;
        }
        case CHUNK_LINE:
        case TRAILERS: {
          const nl = buf.indexOf(10, at);
          const end = nl < 0 ? buf.length : nl;
          this.line += buf.toString('latin1', at, end);
          if (this.line.length > MAX_LINE) bad('chunk line too long');
          at = end;
          if (nl < 0) break;
          at++;
          const line = this.line;
          this.line = '';
          if (line.charCodeAt(line.length - 1) !== 13) bad('bare LF in chunked body');
          const text = line.slice(0, -1);
          if (this.state === TRAILERS) {
            if (text === '') {
              this.complete(buf.length - at);
              return;
            }
            if (BAD_VALUE.test(text) || text.indexOf(':') <= 0) bad('malformed trailer');
            break;
          }
          const m = CHUNK_SIZE.exec(text);
          if (m === null) bad('malformed chunk size');
          this.remaining = Number.parseInt(m[1], 16);
          this.state = this.remaining === 0 ? TRAILERS : CHUNK_DATA;
          break;
        }
        default:
          bad('data after a complete response');
      }
    }
  }

  private complete(rest: number): void {
    this.state = DONE;
    this.sink.end(rest);
  }

  /** The state to go on in: HEAD after a 1xx, DONE without a body, STOP when the sink asked to stop. */
  private parseHead(buf: Buffer, start: number, end: number): number {
    // Status line, byte by byte: "HTTP/1.x NNN[ reason]".
    if (
      end - start < 12 ||
      buf[start] !== 72 || // H
      buf[start + 1] !== 84 ||
      buf[start + 2] !== 84 ||
      buf[start + 3] !== 80 ||
      buf[start + 4] !== 47 || // /
      buf[start + 5] !== 49 || // 1
      buf[start + 6] !== 46 || // .
      (buf[start + 7] !== 48 && buf[start + 7] !== 49) ||
      buf[start + 8] !== 32
    )
      bad('malformed status line');
    const d0 = buf[start + 9] - 48;
    const d1 = buf[start + 10] - 48;
    const d2 = buf[start + 11] - 48;
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) bad('malformed status line');
    const status = d0 * 100 + d1 * 10 + d2;
    let i = start + 12;
    if (buf[i] === 32) {
      i++;
      while (buf[i] !== 13) if (!VALUE_BYTE[buf[i++]]) bad('malformed status line');
    }
    if (buf[i] !== 13 || buf[i + 1] !== 10) bad('malformed status line');
    i += 2;
    // One native decode of the head; names and values are slices of it.
    const text = buf.toString('latin1', start, end);
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = buf[start + 7] === 48; // HTTP/1.0: no keep-alive
    let hintMs = 0;
    // Header lines; the head's final CRLF is at `end`, so every line here ends in CRLF.
    while (i < end) {
      const nameStart = i;
      while (TOKEN_BYTE[buf[i]]) i++;
      if (i === nameStart || buf[i] !== 58 /* : */) bad('malformed header line');
      const nameEnd = i++;
      while (buf[i] === 32 || buf[i] === 9) i++;
      const valueStart = i;
      while (buf[i] !== 13) if (!VALUE_BYTE[buf[i++]]) bad('control character in a header value');
      if (buf[i + 1] !== 10) bad('bare CR in a header');
      let valueEnd = i;
      while (valueEnd > valueStart && (buf[valueEnd - 1] === 32 || buf[valueEnd - 1] === 9)) valueEnd--;
      i += 2;
      const name = text.slice(nameStart - start, nameEnd - start);
      const value = text.slice(valueStart - start, valueEnd - start);
      headers.push(name, value);
      const l = nameEnd - nameStart;
      if (l !== 10 && l !== 14 && l !== 17) continue; // connection, keep-alive; content-length; transfer-encoding
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        const n = digitsValue(buf, valueStart, valueEnd);
        if (n >= 0) {
          if (contentLength !== -1 && contentLength !== n) bad('conflicting Content-Length');
          contentLength = n;
          continue;
        }
        for (const part of value.split(',')) {
          const v = trimOws(part);
          if (!DIGITS.test(v)) bad('malformed Content-Length');
          const n = Number(v);
          if (contentLength !== -1 && contentLength !== n) bad('conflicting Content-Length');
          contentLength = n;
        }
      } else if (lower === 'transfer-encoding') {
        transferEncoding = true;
        const codings = value.toLowerCase().split(',');
        chunked = trimOws(codings[codings.length - 1]) === 'chunked';
      } else if (lower === 'connection') {
        if (value.length === 5 ? value.toLowerCase() === 'close' : CLOSE_TOKEN.test(value)) close = true;
      } else if (lower === 'keep-alive') {
        const t = KEEP_ALIVE_TIMEOUT.exec(value);
        if (t !== null) hintMs = Number(t[1]) * 1000;
      }
    }
    if (status === 101 && this.upgrade) {
      this.state = UNTIL_CLOSE;
      return this.sink.head(status, headers, false, 0) ? UNTIL_CLOSE : STOP;
    }
    if (status < 200) {
      if (status === 101) bad('unexpected 101 Switching Protocols');
      return HEAD; // 100 Continue, 103 Early Hints: not passed on; the final head follows
    }
    if (transferEncoding && contentLength !== -1) bad('both Transfer-Encoding and Content-Length');
    let state: number;
    if (this.noBody || status === 204 || status === 304) state = DONE;
    else if (transferEncoding) state = chunked ? CHUNK_LINE : UNTIL_CLOSE;
    else if (contentLength >= 0) state = contentLength === 0 ? DONE : LENGTH;
    else state = UNTIL_CLOSE;
    if (state === UNTIL_CLOSE) close = true;
    this.remaining = contentLength;
    this.state = state;
    return this.sink.head(status, headers, !close, hintMs) ? state : STOP;
  }
}
