import { Readable } from 'node:stream';
import type { ClientExchange, ClientProtocol } from './client-exchange.js';

export interface InProcessRequest {
  method?: string;
  /**
   * Sent as given, in order, duplicates kept (a smuggling test needs two Hosts).
   * Host defaults to the one in the URL passed to edge.request().
   */
  headers?: Record<string, string> | readonly (readonly [string, string])[];
  /** A Content-Length is added unless the headers frame the body themselves. */
  body?: string | Buffer | Readable;
  /** The client's address as the listener would see it; default 127.0.0.1. */
  remoteAddress?: string;
  /** Requests given the same object share a client connection (its cached decision). */
  connection?: object;
  protocol?: ClientProtocol;
}

/** What edge.request() answers: the response as the client would read it. */
export class EdgeResponse {
  constructor(
    readonly status: number,
    /** name, value, name, value... as the edge wrote them. */
    readonly rawHeaders: readonly string[],
    readonly body: Buffer,
    /** The edge would close the client's connection after this answer. */
    readonly closesConnection: boolean,
  ) {}

  /** Lower-case header names; repeated headers joined with ", ". */
  get headers(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.rawHeaders.length; i += 2) {
      const name = this.rawHeaders[i].toLowerCase();
      out[name] = name in out ? `${out[name]}, ${this.rawHeaders[i + 1]}` : this.rawHeaders[i + 1];
    }
    return out;
  }

  text(): string {
    return this.body.toString('utf8');
  }

  // biome-ignore lint/suspicious/noExplicitAny: JSON is whatever the edge or origin sent
  json(): any {
    return JSON.parse(this.text());
  }
}

/**
 * A request handed to the pipeline without a socket (hono's app.request()).
 * The response is collected whole; `response` settles when it ends, and
 * rejects when the edge cuts it off.
 */
export class InProcessExchange implements ClientExchange {
  readonly protocol: ClientProtocol;
  readonly method: string;
  readonly target: string;
  readonly rawHeaders: readonly string[];
  readonly body: Readable | null;
  readonly remoteAddress: string;
  readonly connection: object;
  statusCode = 200;
  headersSent = false;
  finished = false;
  readonly response: Promise<EdgeResponse>;
  private headers: readonly string[] = [];
  private readonly chunks: Buffer[] = [];
  private settled = false;
  private closes = false;
  private closeListener: (() => void) | null = null;
  private resolve!: (r: EdgeResponse) => void;
  private reject!: (e: Error) => void;

  constructor(target: string, host: string, r: InProcessRequest = {}) {
    this.protocol = r.protocol ?? 'http/1.1';
    this.method = r.method ?? 'GET';
    this.target = target;
    const raw: string[] = [];
    const given =
      r.headers === undefined ? [] : Array.isArray(r.headers) ? r.headers : Object.entries(r.headers);
    let hasHost = false;
    let framed = false;
    for (const [name, value] of given as [string, string][]) {
      const lower = name.toLowerCase();
      if (lower === 'host') hasHost = true;
      if (lower === 'content-length' || lower === 'transfer-encoding') framed = true;
      raw.push(name, value);
    }
    if (!hasHost) raw.unshift('host', host);
    const body = r.body;
    if (body !== undefined && !framed && !(body instanceof Readable)) {
      raw.push('content-length', String(Buffer.byteLength(body)));
    }
    this.rawHeaders = raw;
    this.body =
      body === undefined ? null : body instanceof Readable ? body : Readable.from([Buffer.from(body)]);
    this.remoteAddress = r.remoteAddress ?? '127.0.0.1';
    this.connection = r.connection ?? {};
    this.response = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  writeHead(status: number, headers: readonly string[]): void {
    this.statusCode = status;
    this.headers = headers;
    this.headersSent = true;
  }

  write(chunk: Buffer): boolean {
    if (!this.headersSent) this.writeHead(this.statusCode, []);
    this.chunks.push(Buffer.from(chunk));
    return true;
  }

  end(chunk?: Buffer | string, encoding?: BufferEncoding): void {
    if (this.settled) return;
    if (!this.headersSent) this.writeHead(this.statusCode, []);
    if (chunk !== undefined) {
      this.chunks.push(
        typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.from(chunk),
      );
    }
    const body = this.method === 'HEAD' ? Buffer.alloc(0) : Buffer.concat(this.chunks);
    this.finish(true);
    this.resolve(new EdgeResponse(this.statusCode, this.headers, body, this.closes));
  }

  onDrain(_listener: () => void): void {
    // write() never refuses: there is no socket to fill.
  }

  onClose(listener: () => void): void {
    this.closeListener = listener;
  }

  destroy(): void {
    if (this.settled) return;
    this.finish(false);
    this.reject(
      new Error(`the edge cut the response off (status ${this.headersSent ? this.statusCode : 'not sent'})`),
    );
  }

  closeAfterResponse(): void {
    this.closes = true;
  }

  private finish(whole: boolean): void {
    this.settled = true;
    this.finished = whole;
    // As a socket's close event would: after the current call stack.
    queueMicrotask(() => this.closeListener?.());
  }
}
