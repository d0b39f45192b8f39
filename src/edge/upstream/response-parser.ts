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
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\x00-\x08\x0a-\x1f\x7f]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
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

export class ResponseParser {
  private state = DONE;
  private pending: Buffer | null = null;
  private remaining = 0;
  private line = '';
  private noBody = false;

  constructor(private readonly sink: ResponseSink) {}

  /** Starts a new message; a response to HEAD has no body whatever its head says. */
  reset(headRequest: boolean): void {
    this.state = HEAD;
    this.pending = null;
    this.line = '';
    this.noBody = headRequest;
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
          const next = this.parseHead(buf.toString('latin1', at, end));
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
  private parseHead(text: string): number {
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0]);
    if (m === null) bad('malformed status line');
    const status = Number(m[2]);
    const http10 = m[1] === '0';
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = http10;
    let hintMs = 0;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) bad('malformed header line');
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) bad('malformed header name');
      const value = trimOws(line.slice(colon + 1));
      if (BAD_VALUE.test(value)) bad('control character in a header value');
      headers.push(name, value);
      const l = name.length;
      if (l !== 10 && l !== 14 && l !== 17) continue; // connection, keep-alive; content-length; transfer-encoding
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
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
        if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) close = true;
      } else if (lower === 'keep-alive') {
        const t = KEEP_ALIVE_TIMEOUT.exec(value);
        if (t !== null) hintMs = Number(t[1]) * 1000;
      }
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
