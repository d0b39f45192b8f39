import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { EdgeContext } from '../context.js';
import type { FailureKind } from '../endpoint/upstream.js';
import type { Origin } from '../origins/origin.js';
import { writeResponseHead } from '../outbound/response-head.js';
import type { EdgeRuntime } from '../runtime.js';
import { requestHead } from '../upstream/exchange.js';
import type { H1Pool } from '../upstream/pool.js';
import { ResponseParseError, ResponseParser, type ResponseSink } from '../upstream/response-parser.js';
import { switchingHead } from './switch-head.js';
import type { Tunnel } from './tunnel.js';

/** Where a handshake goes: one of this region's origins, or another region's edge. */
export interface TunnelTarget {
  region: string;
  /** null for a peer edge. */
  origin: Origin | null;
  /** The pool of that upstream: only its address is used, a tunnel has a connection of its own. */
  pool: H1Pool;
  label: string;
}

export interface HandshakeOwner {
  /** No response byte reached the client: decide what to do (another upstream, or an error answer). */
  failed(ctx: EdgeContext, rt: EdgeRuntime, target: TunnelTarget, kind: FailureKind): void;
}

const CONNECTING = 0;
const WAITING = 1;
/** The upstream answered without switching: its response goes to the client, then both close. */
const RELAYING = 2;
const SWITCHED = 3;
const DONE = 4;

/**
 * The upgrade request on a connection of its own to `target` (a pooled
 * keep-alive connection would be held for the tunnel's life). A 101 that
 * names a protocol the client offered opens the tunnel; any other answer is
 * passed on as a normal response and the connection closes. Bytes the client
 * sent after its request wait until the 101: an upstream that does not
 * switch never sees them, so they cannot smuggle a second request past the edge.
 */
export class Handshake implements ResponseSink {
  private readonly socket: Socket;
  private readonly parser = new ResponseParser(this);
  private phase = CONNECTING;
  private readonly startedAt = performance.now();
  private status = 0;
  private tunnel: Tunnel | null = null;
  /** The client's connection, given up by its listener (ClientExchange.upgrade). */
  private readonly client: Socket;
  private readonly onClientClose = () => this.abort();

  constructor(
    private readonly ctx: EdgeContext,
    private readonly rt: EdgeRuntime,
    private readonly target: TunnelTarget,
    headers: string[],
    private readonly owner: HandshakeOwner,
  ) {
    const { pool } = target;
    const t = rt.config.edge.timeouts;
    if (target.origin !== null) target.origin.inFlight++;
    this.socket = pool.tls
      ? tlsConnect({
          host: pool.host,
          port: pool.port,
          servername: pool.servername,
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect({ host: pool.host, port: pool.port });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(t.connect);
    const x = ctx.x;
    this.client = ctx.upgrade!.socket;
    const head = requestHead({ method: x.method, path: x.target, headers, body: null, chunked: false });
    this.socket.once(pool.tls ? 'secureConnect' : 'connect', () => {
      this.phase = WAITING;
      this.socket.setTimeout(t.headers);
      this.socket.write(head, 'latin1');
    });
    this.parser.reset(x.method === 'HEAD', true);
    this.socket.on('data', this.onData);
    this.socket.on('timeout', () => this.fail(this.phase === CONNECTING ? 'connect' : 'timeout'));
    this.socket.on('error', (e: Error & { code?: string }) =>
      this.fail(this.phase === CONNECTING && e.code !== 'ECONNRESET' ? 'connect' : 'reset'),
    );
    this.socket.on('close', () => this.closed());
    this.client.once('close', this.onClientClose);
  }

  private readonly onData = (d: Buffer): void => {
    try {
      this.parser.execute(d);
    } catch (e) {
      if (!(e instanceof ResponseParseError)) throw e;
      this.fail('protocol');
    }
  };

  head(status: number, raw: string[]): boolean {
    const { ctx, rt, target } = this;
    this.status = status;
    this.record(status);
    if (target.origin !== null) {
      if (status >= 500) target.origin.failure(Date.now(), ctx.service!.origins!.mayEject);
      else target.origin.success();
    }
    if (ctx.finished) {
      this.abort();
      return false;
    }
    if (status !== 101) {
      this.phase = RELAYING;
      this.socket.setTimeout(rt.config.edge.timeouts.idle);
      writeResponseHead(ctx, rt, status, raw, target.origin === null);
      return true;
    }
    const head = switchingHead(ctx, rt, ctx.upgrade!.protocols, raw, target.origin === null);
    if (head === null) {
      this.status = 0;
      this.fail('protocol');
      return false;
    }
    this.switched(head.headers, head.protocol, head.region);
    return true;
  }

  body(chunk: Buffer): void {
    if (this.phase === SWITCHED) {
      this.tunnel?.fromUpstream(chunk);
      return;
    }
    if (this.phase !== RELAYING) return;
    const x = this.ctx.x;
    if (!x.write(Buffer.from(chunk))) {
      this.socket.pause();
      x.onDrain(() => this.socket.resume());
    }
  }

  end(): void {
    if (this.phase !== RELAYING) return;
    this.phase = DONE;
    this.ctx.x.end();
    this.socket.destroy();
    this.settle();
  }

  private switched(headers: string[], protocol: string, region: string): void {
    const { ctx, rt, target } = this;
    this.phase = SWITCHED;
    this.socket.off('data', this.onData);
    this.client.off('close', this.onClientClose);
    const service = ctx.service!;
    const limiter = service.limiter;
    // The tunnel holds the request's slot for its life (see ConcurrencyLimiter.moveToTunnel).
    const slot = ctx.slot;
    if (slot === 'local') limiter.moveToTunnel();
    ctx.slot = null;
    const origin = target.origin;
    const x = ctx.x;
    x.writeHead(101, headers);
    x.end();
    this.tunnel = rt.tunnels.add(
      this.client,
      this.socket,
      {
        service: service.name,
        region,
        clientIp: ctx.clientIp,
        connection: x.connection,
        remoteAddress: x.remoteAddress,
        protocol,
        hop: ctx.hop,
        release() {
          if (slot === 'local') limiter.closeTunnel();
          else if (slot === 'forward') limiter.releaseForward();
          if (origin !== null) origin.inFlight--;
        },
      },
      ctx.upgrade!.head,
    );
  }

  private fail(kind: FailureKind): void {
    if (this.phase === DONE || this.phase === SWITCHED) return;
    const relayed = this.phase === RELAYING;
    this.phase = DONE;
    this.socket.destroy();
    this.settle();
    const { ctx, rt, target } = this;
    if (ctx.finished) return;
    if (relayed) return void ctx.x.destroy();
    if (this.status === 0) this.record(kind === 'timeout' ? 504 : 502);
    if (target.origin !== null && kind !== 'protocol') {
      target.origin.failure(Date.now(), ctx.service!.origins!.mayEject);
      if (kind === 'connect') target.origin.connectFailure();
    }
    this.owner.failed(ctx, rt, target, kind);
  }

  private closed(): void {
    if (this.phase === RELAYING && this.parser.eof()) return;
    if (this.phase === CONNECTING || this.phase === WAITING || this.phase === RELAYING) this.fail('reset');
    else this.settle();
  }

  /** The client left before the tunnel opened. */
  private abort(): void {
    if (this.phase === SWITCHED) return;
    this.phase = DONE;
    this.socket.destroy();
    this.settle();
  }

  private settled = false;
  private settle(): void {
    if (this.settled || this.phase === SWITCHED) return;
    this.settled = true;
    this.client.off('close', this.onClientClose);
    if (this.target.origin !== null) this.target.origin.inFlight--;
  }

  private record(status: number): void {
    const ms = performance.now() - this.startedAt;
    if (this.target.origin !== null) this.rt.stats.countOriginAttempt(status, ms);
    this.ctx.addAttempt({ region: this.target.region, origin: this.target.label, status, ms });
  }
}
