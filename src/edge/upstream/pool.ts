import { isIP } from 'node:net';
import { Connection, type ConnectionOwner } from './connection.js';
import { Exchange, type ExchangeHandler, type OutgoingRequest, UpstreamError } from './exchange.js';

export interface H1PoolOptions {
  /** Most connections open at once; more requests wait in a queue. */
  connections: number;
  connectTimeout: number;
  /** From the request sent to the response head. */
  headersTimeout: number;
  /** Longest pause while a body moves either way. */
  idleTimeout: number;
  /** How long an unused connection is kept (shortened by the upstream's Keep-Alive hint). */
  keepAliveTimeout: number;
}

/**
 * Keep-alive HTTP/1.1 connections to one upstream (an origin or a peer edge),
 * the hot-path replacement of undici's Pool: most recently used connection
 * first, a queue when all are busy, and one sweep timer for every deadline.
 */
export class H1Pool implements ConnectionOwner {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly servername: string | undefined;
  /** host:port as a Host header states it. */
  readonly authority: string;
  readonly timeouts: ConnectionOwner['timeouts'];
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Exchange[] = [];
  private readonly sweeper: NodeJS.Timeout;
  private shut = false;

  constructor(
    url: string,
    private readonly o: H1PoolOptions,
  ) {
    const u = new URL(url);
    this.tls = u.protocol === 'https:';
    this.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(u.port) || (this.tls ? 443 : 80);
    this.servername = this.tls && isIP(this.host) === 0 ? this.host : undefined;
    this.authority = u.host;
    this.timeouts = {
      connect: o.connectTimeout,
      headers: o.headersTimeout,
      idle: o.idleTimeout,
      keepAlive: o.keepAliveTimeout,
    };
    const tick = Math.max(
      10,
      Math.min(1000, Math.min(o.connectTimeout, o.headersTimeout, o.idleTimeout) / 8),
    );
    this.sweeper = setInterval(() => this.sweep(), tick);
    this.sweeper.unref();
  }

  /** Sends a request; the handler hears the response. */
  request(req: OutgoingRequest, handler: ExchangeHandler): Exchange {
    const x = new Exchange(req, handler);
    this.dispatch(x, false);
    return x;
  }

  /**
   * Sends a request at once, never queued behind traffic: on an idle
   * connection, else on one more past `connections` (a health probe must not
   * time out because the origin is busy, or a loaded origin looks dead).
   */
  requestNow(req: OutgoingRequest, handler: ExchangeHandler): Exchange {
    const x = new Exchange(req, handler);
    if (this.shut) x.fail(new UpstreamError('reset', 'the upstream pool is closed'));
    else {
      let c = this.idle.pop();
      while (c?.gone) c = this.idle.pop();
      if (c !== undefined) c.send(x);
      else this.all.add(new Connection(this, x));
    }
    return x;
  }

  private dispatch(x: Exchange, fresh: boolean): void {
    if (this.shut) {
      x.fail(new UpstreamError('reset', 'the upstream pool is closed'));
      return;
    }
    if (!fresh) {
      let c = this.idle.pop();
      while (c?.gone) c = this.idle.pop();
      if (c !== undefined) {
        c.send(x);
        return;
      }
    }
    if (this.all.size < this.o.connections) this.all.add(new Connection(this, x));
    else {
      x.onAbort = this.dequeue;
      this.queue.push(x);
    }
  }

  private readonly dequeue = (x: Exchange) => {
    const i = this.queue.indexOf(x);
    if (i >= 0) this.queue.splice(i, 1);
  };

  released(c: Connection): void {
    const next = this.nextQueued();
    if (next !== undefined) c.send(next);
    else this.idle.push(c);
  }

  closed(c: Connection): void {
    this.all.delete(c);
    const i = this.idle.lastIndexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.shut) return;
    const next = this.nextQueued();
    if (next !== undefined) this.all.add(new Connection(this, next));
  }

  retry(x: Exchange): void {
    if (!this.shut) this.dispatch(x, true);
  }

  private nextQueued(): Exchange | undefined {
    let x = this.queue.shift();
    while (x?.done) x = this.queue.shift();
    if (x !== undefined) x.onAbort = null;
    return x;
  }

  private sweep(): void {
    if (this.all.size === 0) return;
    const now = performance.now();
    for (const c of this.all) c.expire(now);
  }

  /** Connections open now (for tests and health). */
  get size(): number {
    return this.all.size;
  }

  close(): void {
    this.shut = true;
    clearInterval(this.sweeper);
    for (const x of this.queue) x.abort();
    this.queue.length = 0;
    for (const c of [...this.all]) c.destroy();
  }
}
