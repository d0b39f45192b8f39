import { connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { type Exchange, isStream, requestHead, UpstreamError } from './exchange.js';
import { ResponseParseError, ResponseParser, type ResponseSink } from './response-parser.js';

export interface ConnectionOwner {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly servername: string | undefined;
  readonly timeouts: { connect: number; headers: number; idle: number; keepAlive: number };
  /** The exchange finished and the connection may carry another. */
  released(c: Connection): void;
  /** The connection is gone (closed, failed or not reusable). */
  closed(c: Connection): void;
  /** A reused connection closed before any response byte: send `x` again on a fresh one. */
  retry(x: Exchange): void;
}

const CONNECTING = 0;
const SENDING = 1;
const WAITING = 2;
const RECEIVING = 3;
const IDLE = 4;

const ignore = () => {};
const READ_BUFFER = 64 * 1024;

/**
 * One keep-alive HTTP/1.1 connection to an upstream, one exchange at a time
 * (no pipelining). The head goes out in one write; a request body is piped
 * with backpressure; the response is parsed strictly and handed on as it
 * comes. Deadlines are checked by the pool's sweep, not a timer per socket.
 */
export class Connection implements ResponseSink {
  readonly socket: Socket;
  private readonly parser = new ResponseParser(this);
  private exchange: Exchange | null = null;
  private phase = CONNECTING;
  /** Whether an exchange finished on it before (a stale keep-alive may fail the next). */
  private reused = false;
  private gotBytes = false;
  private bodySent = true;
  private keepAlive = true;
  private paused = false;
  private error: (Error & { code?: string }) | null = null;
  private bodyListeners: { data: (c: Buffer) => void; end: () => void } | null = null;
  /**
   * Bumped on every step forward (connected, bytes either way, phase change).
   * The pool's sweep closes a connection whose count stood still longer than
   * its phase allows: no clock read per event.
   */
  private progress = 0;
  private seenProgress = -1;
  private seenAt = 0;
  private keepAliveMs: number;
  gone = false;

  constructor(
    private readonly owner: ConnectionOwner,
    first: Exchange,
  ) {
    this.keepAliveMs = owner.timeouts.keepAlive;
    const opts = { host: owner.host, port: owner.port };
    if (owner.tls) {
      this.socket = tlsConnect({ ...opts, servername: owner.servername, ALPNProtocols: ['http/1.1'] });
      this.socket.on('data', (buf: Buffer) => this.onData(buf));
    } else {
      // Reads land in one buffer per connection, handed straight to the parser
      // (no stream 'data' event); what the caller keeps it copies.
      const buffer = Buffer.allocUnsafe(READ_BUFFER);
      this.socket = netConnect({
        ...opts,
        onread: { buffer, callback: (n: number, buf: Buffer) => this.onData(buf.subarray(0, n)) },
      });
    }
    this.socket.setNoDelay(true);
    this.exchange = first;
    first.conn = this;
    this.socket.once(owner.tls ? 'secureConnect' : 'connect', () => {
      this.phase = SENDING;
      const x = this.exchange;
      this.exchange = null;
      if (x !== null && !x.done) this.send(x);
      else this.release();
    });
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (err: Error) => {
      this.error = err;
    });
    this.socket.on('close', () => this.onClose());
    this.socket.on('drain', () => this.onDrain());
  }

  /** Sends `x` on this (connected, idle) connection. */
  send(x: Exchange): void {
    this.exchange = x;
    x.conn = this;
    this.gotBytes = false;
    this.keepAlive = true;
    this.paused = false;
    const r = x.request;
    this.parser.reset(r.method === 'HEAD');
    this.progress++;
    if (!isStream(r.body)) {
      if (r.body === null) this.socket.write(requestHead(r), 'latin1');
      else {
        this.socket.cork();
        this.socket.write(requestHead(r), 'latin1');
        this.socket.write(r.body);
        this.socket.uncork();
      }
      this.bodySent = true;
      this.phase = WAITING;
      this.progress++;
    } else {
      this.bodySent = false;
      this.phase = SENDING;
      this.progress++;
      this.socket.write(requestHead(r), 'latin1');
      this.pipeBody(r.body, r.chunked);
    }
  }

  private pipeBody(body: Readable, chunked: boolean): void {
    const socket = this.socket;
    const data = (c: Buffer) => {
      if (c.length === 0) return;
      this.progress++;
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${c.length.toString(16)}\r\n`, 'latin1');
        socket.write(c);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else ok = socket.write(c);
      if (!ok) body.pause();
    };
    const end = () => {
      this.unpipeBody();
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      this.bodySent = true;
      if (this.phase === SENDING) {
        this.phase = WAITING;
        this.progress++;
      }
    };
    this.bodyListeners = { data, end };
    body.on('data', data);
    body.once('end', end);
    body.on('error', ignore); // a client that leaves is handled when its response closes
    body.resume();
  }

  private unpipeBody(): void {
    const l = this.bodyListeners;
    const body = this.exchange?.request.body ?? null;
    if (l === null || !isStream(body)) return;
    body.off('data', l.data);
    body.off('end', l.end);
    this.bodyListeners = null;
  }

  private onDrain(): void {
    const body = this.exchange?.request.body ?? null;
    if (this.bodyListeners !== null && isStream(body)) body.resume();
  }

  /** Reading goes on after the caller's client drained. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.progress++;
    this.socket.resume();
  }

  abort(x: Exchange): void {
    if (this.exchange !== x) return;
    this.unpipeBody();
    this.exchange = null;
    this.destroy();
  }

  /** Returns false while reading is paused (the caller's client is full). */
  private onData(buf: Buffer): boolean {
    const x = this.exchange;
    if (x === null || this.phase === IDLE) {
      this.destroy(); // bytes nobody asked for: the connection cannot be trusted
      return false;
    }
    this.gotBytes = true;
    try {
      this.parser.execute(buf);
    } catch (e) {
      if (!(e instanceof ResponseParseError)) throw e;
      this.fail(new UpstreamError('protocol', `bad response from upstream: ${e.message}`));
    }
    return !this.paused;
  }

  // ResponseSink: called by the parser.

  head(status: number, headers: string[], keepAlive: boolean, hintMs: number): boolean {
    const x = this.exchange;
    if (x === null) return false;
    this.keepAlive = keepAlive;
    if (hintMs > 0) this.keepAliveMs = Math.min(this.keepAliveMs, hintMs - 1000);
    this.phase = RECEIVING;
    this.progress++;
    if (x.done) {
      this.abort(x);
      return false;
    }
    if (!x.handler.onHeaders(status, headers)) {
      x.done = true;
      this.abort(x);
      return false;
    }
    return this.exchange === x;
  }

  body(chunk: Buffer): void {
    const x = this.exchange;
    if (x === null || x.done) return;
    this.progress++;
    if (!x.handler.onData(chunk) && !this.paused && !x.done) {
      this.paused = true;
      this.socket.pause();
    }
  }

  end(rest: number): void {
    const x = this.exchange;
    if (x === null) return;
    if (rest > 0) this.keepAlive = false;
    this.progress++;
    if (!this.bodySent) {
      // The origin answered before reading the whole request body: stop sending, do not reuse.
      this.keepAlive = false;
      this.unpipeBody();
    }
    this.exchange = null;
    if (!x.done) {
      x.done = true;
      x.handler.onComplete();
    }
    this.release();
  }

  private release(): void {
    if (this.gone) return;
    if (!this.keepAlive || this.keepAliveMs <= 0 || this.socket.destroyed) {
      this.destroy();
      return;
    }
    this.phase = IDLE;
    this.reused = true;
    this.progress++;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.owner.released(this);
  }

  private onEnd(): void {
    // The upstream closed its side: a close-delimited body ends here; anything else was cut short.
    if (this.exchange !== null && this.parser.closeDelimited) {
      this.keepAlive = false;
      this.parser.eof();
      return;
    }
    this.destroy();
  }

  private onClose(): void {
    const x = this.exchange;
    this.exchange = null;
    this.markGone();
    if (x === null || x.done) return;
    const code = this.error?.code;
    if (this.phase === CONNECTING) {
      // Nothing was sent (refused, unreachable, TLS handshake failed): any request may go elsewhere.
      x.fail(new UpstreamError('connect', `connect: ${this.error?.message ?? 'closed'}`, code));
    } else if (this.reused && !this.gotBytes && x.retrySafe) {
      x.retrySafe = false;
      x.conn = null;
      this.owner.retry(x);
    } else {
      x.fail(new UpstreamError('reset', `upstream closed the connection: ${code ?? 'eof'}`, code));
    }
  }

  /** How long the current phase may stand still; 0: no limit. */
  private limit(): number {
    const t = this.owner.timeouts;
    switch (this.phase) {
      case CONNECTING:
        return t.connect;
      case WAITING:
        return t.headers;
      case IDLE:
        return this.keepAliveMs;
      default:
        return this.paused ? 0 : t.idle; // a slow client is not the upstream's fault
    }
  }

  /** Called by the pool's sweep; true when the connection was closed. */
  expire(now: number): boolean {
    if (this.progress !== this.seenProgress) {
      this.seenProgress = this.progress;
      this.seenAt = now;
      return false;
    }
    const limit = this.limit();
    if (limit === 0 || now - this.seenAt < limit) return false;
    if (this.phase === IDLE) {
      this.destroy();
      return true;
    }
    const err =
      this.phase === CONNECTING
        ? new UpstreamError('connect', 'connect timeout', 'ETIMEDOUT')
        : this.phase === WAITING
          ? new UpstreamError('timeout', 'upstream sent no response head in time')
          : new UpstreamError('timeout', 'upstream stalled');
    this.fail(err);
    return true;
  }

  private fail(err: UpstreamError): void {
    const x = this.exchange;
    this.unpipeBody();
    this.exchange = null;
    this.destroy();
    x?.fail(err);
  }

  destroy(): void {
    this.socket.destroy();
    this.markGone();
  }

  private markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.owner.closed(this);
  }

  get idle(): boolean {
    return this.phase === IDLE && !this.gone;
  }
}
