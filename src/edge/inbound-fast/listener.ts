import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { ClientExchange } from '../exchange/client-exchange.js';
import { matchPreface, PREFACE_PARTIAL, PREFACE_WHOLE } from '../inbound-h2/preface.js';
import { sweepInterval } from '../sweep.js';
import { FastExchange, type ResponseOwner } from './fast-exchange.js';
import { HAND_OFF, parseSimpleRequest, type SimpleRequest } from './request-line.js';

export interface FastListenerOptions {
  maxHeaderSize: number;
  /**
   * A request head must be complete this long after its first byte (after
   * accept on a new connection), however slowly its bytes drip in (slowloris).
   */
  headersTimeout: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveTimeout: number;
  /** No byte either way this long while a request is open: close. */
  idleTimeout: number;
  /** Client connections at once (handed-off ones included); more are closed on accept. */
  maxConnections: number;
  /** The response to this request on a connection closes it; 0: no limit. */
  maxRequestsPerConnection: number;
  handle: (x: ClientExchange) => void;
  /**
   * h2c with prior knowledge: a connection that starts with the HTTP/2
   * preface goes here, with the bytes read so far put back on the socket.
   */
  h2?: (socket: Socket) => void;
}

const WAITING = 0;
const SERVING = 1;

/**
 * One client connection on the fast path: simple requests (see
 * request-line.ts) are parsed here and answered through FastExchange, one at
 * a time (a pipelined request waits for the previous answer). The first
 * request that is not simple hands the connection, with its unread bytes, to
 * Node's HTTP server for the rest of its life.
 */
class FastConnection implements ResponseOwner {
  private buf: Buffer | null = null;
  private current: FastExchange | null = null;
  private phase = WAITING;
  private handedOff = false;
  /** No more requests: the client half-closed, asked to close, or a write failed. */
  private ending = false;
  private served = 0;
  /** When the head being waited for began: accept, its first byte, or the end of the previous answer. */
  private headStartedAt = performance.now();
  progress = 0;
  seenProgress = -1;
  seenAt = 0;
  private readonly onData = (d: Buffer) => {
    this.progress++;
    if (this.buf === null) {
      if (this.phase === WAITING) this.headStartedAt = performance.now();
      this.buf = d;
    } else this.buf = Buffer.concat([this.buf, d]);
    // A client pipelining faster than it is answered waits (as with Node's server).
    if (this.current !== null && this.buf.length > PIPELINE_LIMIT) this.socket.pause();
    this.next();
  };
  private readonly onClose = () => {
    this.owner.connections.delete(this);
    this.current?.closed(false);
    this.current = null;
  };
  /** The client half-closed: answer what is open, then close (Node's server does the same). */
  private readonly onEnd = () => {
    this.ending = true;
    if (this.current === null) this.socket.end();
  };
  private readonly onDrain = () => {
    this.progress++;
    this.current?.drained();
  };

  constructor(
    readonly socket: Socket,
    private readonly owner: FastListener,
  ) {
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onEnd);
    socket.on('error', ignore);
  }

  private next(): void {
    while (this.current === null && !this.handedOff && !this.ending && this.buf !== null) {
      const o = this.owner.options;
      const r: SimpleRequest | number = parseSimpleRequest(this.buf, o.maxHeaderSize);
      if (typeof r === 'number') {
        if (r !== HAND_OFF) return;
        // Only a connection's first bytes, and only once they are not a simple request: no cost per request.
        if (this.served === 0 && o.h2 !== undefined && this.buf[0] === 0x50 /* P */) {
          const p = matchPreface(this.buf);
          if (p === PREFACE_PARTIAL) return;
          if (p === PREFACE_WHOLE) {
            this.handOffH2(o.h2);
            return;
          }
        }
        this.handOff();
        return;
      }
      this.buf = r.consumed === this.buf.length ? null : this.buf.subarray(r.consumed);
      this.served++;
      const max = o.maxRequestsPerConnection;
      const keepAlive = !r.close && (max === 0 || this.served < max);
      const x = new FastExchange(this, r, keepAlive, this.owner.keepAliveHeader);
      this.current = x;
      this.phase = SERVING;
      o.handle(x);
    }
  }

  done(res: FastExchange, ok: boolean): void {
    if (this.current !== res) return;
    this.progress++;
    this.current = null;
    this.phase = WAITING;
    this.headStartedAt = performance.now();
    res.closed(ok);
    if (!ok || !res.keepAlive || this.ending || this.owner.draining) {
      this.ending = true;
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    this.next();
  }

  /** A drain began: an idle connection closes now, a busy one after its answer. */
  drain(): void {
    this.ending = true;
    if (this.current === null) this.socket.end();
    else this.current.keepAlive = false;
  }

  touch(): void {
    this.progress++;
  }

  private handOff(): void {
    const rest = this.detach();
    this.owner.http.emit('connection', this.socket);
    if (rest !== null) this.socket.emit('data', rest);
  }

  /** To the HTTP/2 server: it reads what the socket holds before its own reads (Node's http2 does). */
  private handOffH2(h2: (socket: Socket) => void): void {
    const rest = this.detach();
    this.socket.pause();
    if (rest !== null) this.socket.unshift(rest);
    h2(this.socket);
  }

  /** Leaves the socket to another server; returns the bytes read and not parsed. */
  private detach(): Buffer | null {
    this.handedOff = true;
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('close', this.onClose);
    socket.off('drain', this.onDrain);
    socket.off('end', this.onEnd);
    socket.off('error', ignore);
    this.owner.connections.delete(this);
    const rest = this.buf;
    this.buf = null;
    return rest;
  }

  /** Called by the sweep: closes a connection that stood still too long, or whose head is late. */
  expire(now: number): void {
    const o = this.owner.options;
    if (this.phase === WAITING && (this.buf !== null || this.served === 0)) {
      // Absolute: bytes arriving do not extend it, or one byte every few seconds holds a connection for ever.
      if (o.headersTimeout > 0 && now - this.headStartedAt >= o.headersTimeout) this.socket.destroy();
      return;
    }
    if (this.progress !== this.seenProgress) {
      this.seenProgress = this.progress;
      this.seenAt = now;
      return;
    }
    const limit = this.phase === SERVING ? o.idleTimeout : o.keepAliveTimeout;
    if (limit > 0 && now - this.seenAt >= limit) this.socket.destroy();
  }
}

const ignore = () => {};
const PIPELINE_LIMIT = 64 * 1024;

/**
 * The data port for plain HTTP: a `net` server whose connections start on
 * the fast path and move to Node's `http` server (`http`, never listening
 * itself) at the first request the fast path does not take.
 */
export class FastListener {
  readonly server: Server;
  readonly connections = new Set<FastConnection>();
  readonly keepAliveHeader: string;
  /** No new connections; every connection closes after its answer in progress. */
  draining = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly http: HttpServer,
    readonly options: FastListenerOptions,
  ) {
    this.keepAliveHeader = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(options.keepAliveTimeout / 1000)}\r\n`;
    // allowHalfOpen as Node's http server has it: a client's FIN does not cut an answer short.
    this.server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      this.connections.add(new FastConnection(socket, this));
    });
    // Node's server starts its header/request timeout checks on 'listening'; it never listens itself.
    this.server.on('listening', () => http.emit('listening'));
    this.server.maxConnections = options.maxConnections;
    const tick = sweepInterval(options.headersTimeout, options.keepAliveTimeout);
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const c of this.connections) c.expire(now);
    }, tick);
    this.sweeper.unref();
  }

  /** Stops accepting and closes idle connections; `close()` ends the rest. */
  drain(): void {
    this.draining = true;
    if (this.server.listening) this.server.close();
    for (const c of this.connections) c.drain();
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const c of this.connections) c.socket.destroy();
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
