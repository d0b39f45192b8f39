import type { Readable } from 'node:stream';

/** Why an upstream exchange failed, as the endpoint acts on it. */
export type UpstreamFailure = 'connect' | 'reset' | 'timeout' | 'protocol';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailure,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** What the caller hears about one exchange; nothing more after onComplete, onError or abort(). */
export interface ExchangeHandler {
  /** The final response head (1xx are not passed on). False: the caller is gone, abort. */
  onHeaders(status: number, headers: string[]): boolean;
  /**
   * A piece of the body, valid only during the call (the connection reuses its
   * read buffer): copy what is kept. False: stop reading until exchange.resume()
   * (the rest of the current read may still come).
   */
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: UpstreamError): void;
}

export interface OutgoingRequest {
  method: string;
  path: string;
  /** name, value, name, value...: hop-by-hop already removed, Host included. */
  headers: string[];
  /** A stream goes after the head with backpressure; a buffer (Content-Length among the headers) in the same write. */
  body: Readable | Buffer | null;
  /** The body has no Content-Length among the headers: send it chunked. */
  chunked: boolean;
  /**
   * The request may reach the upstream twice (idempotent, or deduped by an idempotency
   * key); default: GET, HEAD and OPTIONS. See Exchange.retrySafe.
   */
  retrySafe?: boolean;
}

/** Methods that may go again on a fresh connection when the caller does not say. */
const RETRY_SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One request/response through a pool; the pool and its connections drive it. */
export class Exchange {
  /** Set once the handler has heard its last word (or the caller aborted). */
  done = false;
  /**
   * Whether a reused keep-alive connection that closed before any response
   * byte may be swapped for a fresh one (once). Its request was written, so
   * the upstream may have read and acted on it (a stale close and a crash
   * after reading look the same from here): only a request that may arrive
   * twice, with a body we still hold, goes again.
   */
  retrySafe: boolean;
  /** The connection carrying it; null while queued. */
  conn: { abort(x: Exchange): void; resume(): void } | null = null;
  onAbort: ((x: Exchange) => void) | null = null;

  constructor(
    readonly request: OutgoingRequest,
    readonly handler: ExchangeHandler,
  ) {
    this.retrySafe = !isStream(request.body) && (request.retrySafe ?? RETRY_SAFE.has(request.method));
  }

  /** The caller went away: drop the request (the connection carrying it is closed). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.conn !== null) this.conn.abort(this);
    else this.onAbort?.(this);
  }

  /** Reading the body may go on (the client drained). */
  resume(): void {
    if (!this.done) this.conn?.resume();
  }

  fail(err: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    this.handler.onError(err);
  }
}

/** The request head as one latin1 string, for a single write. */
export function requestHead(r: OutgoingRequest): string {
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  const h = r.headers;
  for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
  if (isStream(r.body) && r.chunked) head += 'transfer-encoding: chunked\r\n';
  return `${head}\r\n`;
}

export const isStream = (b: OutgoingRequest['body']): b is Readable => b !== null && !Buffer.isBuffer(b);
