// The HTTP/2 connection preface (RFC 9113 3.4) tells h2c with prior
// knowledge from HTTP/1.1 on one port, as Envoy's `codec_type: AUTO` does.
// The fast path looks only when it already hands a connection's first
// request off (a simple GET never gets here), so plain HTTP/1.1 pays nothing.

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Not the preface: HTTP/1.x (or garbage) for Node's parser. */
export const NOT_PREFACE = 0;
/** The bytes so far are the start of the preface: wait for more. */
export const PREFACE_PARTIAL = 1;
/** The connection starts with the whole preface: HTTP/2. */
export const PREFACE_WHOLE = 2;

export function matchPreface(buf: Buffer): number {
  const n = Math.min(buf.length, PREFACE.length);
  for (let i = 0; i < n; i++) if (buf[i] !== PREFACE[i]) return NOT_PREFACE;
  return n === PREFACE.length ? PREFACE_WHOLE : PREFACE_PARTIAL;
}
