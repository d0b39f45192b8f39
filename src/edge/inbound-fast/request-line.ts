// The strict subset of HTTP/1.1 requests the fast inbound path serves itself:
// GET or HEAD, origin-form target of visible ASCII, HTTP/1.1, token header
// names, values without control characters, no body framing headers at all
// (Content-Length, Transfer-Encoding), no Expect/Upgrade, one Host. Anything
// else, well-formed or not, goes to Node's HTTP server (llhttp), which answers
// exactly as before (400/431, bodies, 100-continue).

/** What the fast path parsed; `consumed` bytes of the buffer were the head. */
export interface SimpleRequest {
  method: 'GET' | 'HEAD';
  url: string;
  rawHeaders: string[];
  /** The client asked to close after this response. */
  close: boolean;
  consumed: number;
}

/** The head is not complete yet. */
export const INCOMPLETE = 0;
/** Not for the fast path: hand the connection to Node's server. */
export const HAND_OFF = 1;

const TOKEN_BYTE = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN_BYTE[c.charCodeAt(0)] = 1;
/** Header value bytes: HTAB, SP, visible ASCII (obs-text goes to Node's parser). */
const VALUE_BYTE = new Uint8Array(256);
for (let b = 0; b < 256; b++) VALUE_BYTE[b] = b === 9 || (b >= 32 && b < 127) ? 1 : 0;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEADERS = 100;

/** Lower-case names that send a request to Node's parser. */
const HAND_OFF_NAMES = new Set([
  'content-length',
  'transfer-encoding',
  'expect',
  'upgrade',
  'http2-settings',
  'te',
  'trailer',
]);

export function parseSimpleRequest(buf: Buffer, maxHead: number): SimpleRequest | number {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) return buf.length > maxHead || hasBareLf(buf) ? HAND_OFF : INCOMPLETE;
  if (end + 4 > maxHead) return HAND_OFF;
  let i: number;
  let method: 'GET' | 'HEAD';
  if (buf[0] === 71 && buf[1] === 69 && buf[2] === 84 && buf[3] === 32) {
    method = 'GET';
    i = 4;
  } else if (buf[0] === 72 && buf[1] === 69 && buf[2] === 65 && buf[3] === 68 && buf[4] === 32) {
    method = 'HEAD';
    i = 5;
  } else return HAND_OFF;
  if (buf[i] !== 47 /* / */) return HAND_OFF;
  const urlStart = i;
  while (buf[i] > 32 && buf[i] < 127) i++;
  const urlEnd = i;
  // " HTTP/1.1\r\n"
  if (
    buf[i] !== 32 ||
    buf[i + 1] !== 72 ||
    buf[i + 2] !== 84 ||
    buf[i + 3] !== 84 ||
    buf[i + 4] !== 80 ||
    buf[i + 5] !== 47 ||
    buf[i + 6] !== 49 ||
    buf[i + 7] !== 46 ||
    buf[i + 8] !== 49 ||
    buf[i + 9] !== 13 ||
    buf[i + 10] !== 10
  )
    return HAND_OFF;
  i += 11;
  const headEnd = end + 2; // the last header line's CRLF included
  const text = buf.toString('latin1', 0, headEnd);
  const rawHeaders: string[] = [];
  let hosts = 0;
  let close = false;
  while (i < headEnd) {
    const nameStart = i;
    while (TOKEN_BYTE[buf[i]]) i++;
    if (i === nameStart || buf[i] !== 58 /* : */) return HAND_OFF;
    const nameEnd = i++;
    while (buf[i] === 32 || buf[i] === 9) i++;
    const valueStart = i;
    while (buf[i] !== 13) if (!VALUE_BYTE[buf[i++]]) return HAND_OFF;
    if (buf[i + 1] !== 10) return HAND_OFF;
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === 32 || buf[valueEnd - 1] === 9)) valueEnd--;
    i += 2;
    const name = text.slice(nameStart, nameEnd);
    const value = text.slice(valueStart, valueEnd);
    const l = nameEnd - nameStart;
    if (l === 4 || l === 10 || HAND_OFF_LENGTH[l] === 1) {
      const lower = name.toLowerCase();
      if (lower === 'host') hosts++;
      else if (lower === 'connection') {
        // llhttp reads "close<TAB>" as not close: any trailing whitespace goes to Node's parser.
        if (valueEnd !== i - 2) return HAND_OFF;
        const v = value.toLowerCase();
        if (v === 'close') close = true;
        else if (v !== 'keep-alive') return HAND_OFF;
      } else if (HAND_OFF_NAMES.has(lower)) return HAND_OFF;
    }
    rawHeaders.push(name, value);
    if (rawHeaders.length > MAX_HEADERS * 2) return HAND_OFF;
  }
  if (hosts !== 1) return HAND_OFF;
  return { method, url: text.slice(urlStart, urlEnd), rawHeaders, close, consumed: end + 4 };
}

/** A line ending in LF alone never completes a CRLFCRLF head: Node's parser refuses it at once. */
function hasBareLf(buf: Buffer): boolean {
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) if (buf[i - 1] !== 13) return true;
  return false;
}

const HAND_OFF_LENGTH = new Uint8Array(64);
for (const n of HAND_OFF_NAMES) HAND_OFF_LENGTH[n.length] = 1;
