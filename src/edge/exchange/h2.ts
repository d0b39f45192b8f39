import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import type { ClientExchange } from './client-exchange.js';

const ignore = () => {};

/** Connection-specific fields HTTP/2 forbids in a response (RFC 9113 8.2.2). */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/**
 * One HTTP/2 stream as an exchange (h2 over TLS or h2c). The request reads as
 * HTTP/1.1 to the stages: `:authority` becomes Host (a Host that names
 * another authority is kept beside it, so the request-head stage refuses the
 * pair, as RFC 9113 8.3.1 allows), split cookie fields are joined, and a body
 * without Content-Length is marked `transfer-encoding: chunked`, which is how
 * it goes to an HTTP/1.1 origin. `rawHeaders` is the flat list Node passes as
 * the 'stream' event's fourth argument.
 */
export class H2Exchange implements ClientExchange {
  readonly protocol = 'h2';
  readonly method: string;
  readonly target: string;
  readonly rawHeaders: readonly string[];
  readonly body: Readable | null;
  readonly connection: object;
  statusCode = 200;
  headersSent = false;
  private head: Record<string, string | string[]> = {};
  private responded = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    rawHeaders: readonly string[],
  ) {
    let method = '';
    let path = '';
    let authority: string | undefined;
    let host: string | undefined;
    let cookie: string | undefined;
    let length = false;
    const out: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i];
      const value = rawHeaders[i + 1];
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':authority') authority = value;
      else if (name.charCodeAt(0) === 58 /* ':' */) continue;
      else if (name === 'cookie') cookie = cookie === undefined ? value : `${cookie}; ${value}`;
      else {
        if (name === 'host') host = value;
        if (name === 'content-length') length = true;
        out.push(name, value);
      }
    }
    if (authority !== undefined && host !== authority) out.unshift('host', authority);
    if (cookie !== undefined) out.push('cookie', cookie);
    const hasBody = !stream.endAfterHeaders;
    if (hasBody && !length) out.push('transfer-encoding', 'chunked');
    this.method = method;
    this.target = path;
    this.rawHeaders = out;
    this.body = hasBody ? stream : null;
    this.connection = stream.session ?? stream;
    // A reset (ours in destroy(), or the client's) emits 'error'; 'close' tells the pipeline.
    stream.on('error', ignore);
  }

  get remoteAddress(): string {
    return this.stream.session?.socket?.remoteAddress ?? '0.0.0.0';
  }

  get finished(): boolean {
    // A reset ends the writable side too: only a stream closed without an error code was answered whole.
    return this.stream.writableFinished && (this.stream.rstCode ?? 0) === constants.NGHTTP2_NO_ERROR;
  }

  writeHead(status: number, headers: readonly string[]): void {
    const head: Record<string, string | string[]> = { ':status': String(status) };
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i].toLowerCase();
      if (CONNECTION_SPECIFIC.has(name)) continue;
      const value = String(headers[i + 1]);
      const had = head[name];
      head[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
    this.statusCode = status;
    this.head = head;
    this.headersSent = true;
  }

  private respond(endStream: boolean): void {
    if (this.responded) return;
    if (!this.headersSent) this.writeHead(this.statusCode, []);
    this.responded = true;
    if (!this.stream.destroyed) this.stream.respond(this.head, { endStream });
  }

  write(chunk: Buffer): boolean {
    this.respond(false);
    if (this.stream.destroyed) return false;
    return this.stream.write(chunk);
  }

  end(chunk?: Buffer | string, encoding?: BufferEncoding): void {
    const noBody = this.method === 'HEAD' || this.statusCode === 204 || this.statusCode === 304;
    if (!this.responded && (chunk === undefined || noBody)) {
      this.respond(true);
      return;
    }
    this.respond(false);
    if (this.stream.destroyed) return;
    if (chunk === undefined || noBody) this.stream.end();
    else if (typeof chunk === 'string') this.stream.end(chunk, encoding ?? 'utf8');
    else this.stream.end(chunk);
  }

  onDrain(listener: () => void): void {
    this.stream.once('drain', listener);
  }

  onClose(listener: () => void): void {
    this.stream.once('close', listener);
  }

  destroy(): void {
    this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  /** GOAWAY: streams open go on, the client opens new ones on a new connection. */
  closeAfterResponse(): void {
    this.stream.session?.close();
  }
}
