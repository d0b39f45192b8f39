import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientExchange } from '../exchange/client-exchange.js';
import type { SimpleRequest } from './request-line.js';

/** What a FastExchange tells its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** The response is written (or failed); the connection may read the next request. */
  done(x: FastExchange, ok: boolean): void;
  /** Bytes went out: the connection is not idle. */
  touch(): void;
}

let dateText = '';
let dateSecond = -1;
/** The Date header value, formatted once a second (as Node's server does). */
function utcDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/**
 * A simple request (request-line.ts: no body) and its response, written
 * straight to the socket: the head is built once and goes out with the first
 * body bytes (a whole small body: one write). Same framing rules as Node's
 * server: Content-Length when known, else chunked; no body for HEAD, 1xx, 204, 304.
 */
export class FastExchange implements ClientExchange {
  readonly protocol = 'http/1.1';
  readonly method: string;
  readonly target: string;
  readonly rawHeaders: readonly string[];
  readonly body = null;
  readonly connection: Socket;
  statusCode = 200;
  /** True once writeHead ran (Node's meaning: the head is fixed). */
  headersSent = false;
  private ended = false;
  finished = false;
  private drainListener: (() => void) | null = null;
  private closeListener: (() => void) | null = null;
  private readonly headRequest: boolean;
  private head = '';
  private headFlushed = false;
  private hasLength = false;
  private chunked = false;
  private noBody = false;
  private isClosed = false;

  constructor(
    private readonly owner: ResponseOwner,
    request: SimpleRequest,
    /** False when the client asked to close, or the response says so. */
    public keepAlive: boolean,
    private readonly keepAliveHeader: string,
  ) {
    this.method = request.method;
    this.target = request.url;
    this.rawHeaders = request.rawHeaders;
    this.connection = owner.socket;
    this.headRequest = request.method === 'HEAD';
  }

  get remoteAddress(): string {
    return this.connection.remoteAddress ?? '0.0.0.0';
  }

  writeHead(status: number, headers: readonly string[] = []): void {
    if (this.headersSent) throw new Error('writeHead after the head was written');
    this.statusCode = status;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let hasDate = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const value = String(headers[i + 1]);
      const l = name.length;
      if (l === 4 || l === 10 || l === 14) {
        const lower = name.toLowerCase();
        if (lower === 'date') hasDate = true;
        else if (lower === 'content-length') this.hasLength = true;
        else if (lower === 'connection') {
          if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) this.keepAlive = false;
          continue; // written below
        }
      }
      head += `${name}: ${value}\r\n`;
    }
    if (!hasDate) head += `date: ${utcDate()}\r\n`;
    head += this.keepAlive ? this.keepAliveHeader : 'connection: close\r\n';
    this.noBody = this.headRequest || status === 204 || status === 304 || status < 200;
    this.head = head;
    this.headersSent = true;
  }

  /** The head's last lines, once the body's framing is known. */
  private takeHead(wholeBody: number): string {
    this.headFlushed = true;
    let head = this.head;
    this.head = '';
    if (!this.hasLength && !this.noBody) {
      if (wholeBody >= 0) head += `content-length: ${wholeBody}\r\n`;
      else {
        this.chunked = true;
        head += 'transfer-encoding: chunked\r\n';
      }
    }
    return `${head}\r\n`;
  }

  write(chunk: Buffer | string, encoding?: BufferEncoding): boolean {
    if (!this.headersSent) this.writeHead(this.statusCode);
    const socket = this.owner.socket;
    if (socket.destroyed) return false;
    this.owner.touch();
    const head = this.headFlushed ? '' : this.takeHead(-1);
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
    if (this.noBody || size === 0) return head === '' ? true : socket.write(head, 'latin1');
    socket.cork();
    if (head !== '') socket.write(head, 'latin1');
    if (this.chunked) socket.write(`${size.toString(16)}\r\n`, 'latin1');
    let ok = socket.write(chunk, encoding as BufferEncoding);
    if (this.chunked) ok = socket.write('\r\n', 'latin1');
    socket.uncork();
    return ok;
  }

  end(chunk?: Buffer | string, encoding?: BufferEncoding): void {
    if (this.ended) return;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.ended = true;
    const socket = this.owner.socket;
    if (socket.destroyed) {
      this.owner.done(this, false);
      return;
    }
    const size =
      chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
    const head = this.headFlushed ? '' : this.takeHead(size);
    const done = (err?: Error | null) => this.owner.done(this, !err);
    if (this.noBody || size === 0) {
      const tail = this.chunked ? '0\r\n\r\n' : '';
      socket.write(head + tail, 'latin1', done);
    } else if (typeof chunk === 'string' && (encoding === 'latin1' || /^[\x00-\x7f]*$/.test(chunk))) {
      // Head and body as one string: one write.
      socket.write(
        this.chunked ? `${head}${size.toString(16)}\r\n${chunk}\r\n0\r\n\r\n` : head + chunk,
        'latin1',
        done,
      );
    } else {
      socket.cork();
      if (head !== '') socket.write(head, 'latin1');
      if (this.chunked) socket.write(`${size.toString(16)}\r\n`, 'latin1');
      if (this.chunked) {
        socket.write(chunk!, encoding as BufferEncoding);
        socket.write('\r\n0\r\n\r\n', 'latin1', done);
      } else socket.write(chunk!, encoding as BufferEncoding, done);
      socket.uncork();
    }
  }

  destroy(): void {
    this.owner.socket.destroy();
  }

  closeAfterResponse(): void {
    this.keepAlive = false;
  }

  onDrain(listener: () => void): void {
    this.drainListener = listener;
  }

  onClose(listener: () => void): void {
    this.closeListener = listener;
  }

  /** The client's socket drained. */
  drained(): void {
    const listener = this.drainListener;
    this.drainListener = null;
    listener?.();
  }

  /** Called once, after the response was written in full or cut off. */
  closed(finished: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.finished = finished;
    this.closeListener?.();
  }
}
