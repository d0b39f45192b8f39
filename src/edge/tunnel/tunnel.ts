import type { Socket } from 'node:net';
import { closeFrame, FrameBoundary, GOING_AWAY } from './frames.js';
import type { CloseReason } from './stats.js';

export interface TunnelOwner {
  /** Both sockets are closed; called once. */
  closed(t: Tunnel, reason: CloseReason): void;
}

/** What a tunnel is, for the evacuation watch, metrics and the access log. */
export interface TunnelInfo {
  service: string;
  /** The region whose origins serve it (this one, or a peer edge's). */
  region: string;
  clientIp: string;
  /** The client's connection as its exchange named it (ClientExchange.connection): the route stage's cache. */
  connection: object;
  remoteAddress: string;
  protocol: string;
  /** Arrived from a peer edge (signed hop): the edge holding the client watches its place. */
  hop: boolean;
  /** Gives back what the tunnel held (its limiter slot, its origin's count). */
  release(): void;
}

/**
 * One direction of a tunnel: bytes from `from` to `to` with backpressure.
 * For WebSocket it follows frame boundaries, so the edge can end it with a
 * close frame placed between two frames, never inside one.
 */
class Direction {
  private readonly frames: FrameBoundary | null;
  private closing = false;
  /** No more bytes go this way (the close frame, if any, was written). */
  stopped = false;
  bytes = 0;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    websocket: boolean,
    /** Frames to the upstream (an origin) are masked, as a client's must be (RFC 6455 5.3). */
    private readonly masked: boolean,
  ) {
    this.frames = websocket ? new FrameBoundary() : null;
  }

  readonly onData = (chunk: Buffer): void => {
    if (this.stopped) return;
    if (this.closing) {
      this.toBoundary(chunk);
      return;
    }
    this.bytes += chunk.length;
    this.frames?.consume(chunk, false);
    if (!this.to.write(chunk)) this.from.pause();
  };

  readonly onDrain = (): void => {
    if (!this.stopped) this.from.resume();
  };

  /** The edge ends the tunnel: a close frame at the next boundary (WebSocket), then FIN. */
  close(): void {
    if (this.closing || this.stopped) return;
    this.closing = true;
    if (this.frames === null || this.frames.atBoundary) this.stop();
    // Mid-frame: read on to the frame's end (the owner's timer cuts a frame that never ends).
    else this.from.resume();
  }

  private toBoundary(chunk: Buffer): void {
    const n = this.frames!.consume(chunk, true);
    if (n > 0) this.to.write(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (this.frames!.atBoundary) this.stop();
  }

  private stop(): void {
    this.stopped = true;
    if (this.frames !== null && this.to.writable) this.to.write(closeFrame(GOING_AWAY, this.masked));
    this.to.end();
  }
}

/**
 * A switched connection (WebSocket or another protocol both sides agreed
 * on): the client's socket and a dedicated upstream connection (an origin,
 * or another region's edge), joined byte for byte. Either side's FIN is
 * passed on; a reset or error closes both.
 */
export class Tunnel {
  readonly openedAt = performance.now();
  /** performance.now() when the evacuation watch first found it in the wrong region; 0 otherwise. */
  misplacedAt = 0;
  private reason: CloseReason | null = null;
  private readonly up: Direction;
  private readonly down: Direction;
  private open = 2;
  private killTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    readonly info: TunnelInfo,
    private readonly owner: TunnelOwner,
    private readonly closeTimeoutMs: number,
  ) {
    const websocket = info.protocol === 'websocket';
    this.up = new Direction(client, upstream, websocket, true);
    this.down = new Direction(upstream, client, websocket, false);
  }

  /** Starts the flow: `clientHead` (bytes the client sent after its request) goes upstream first. */
  start(clientHead: Buffer): void {
    const { client, upstream } = this;
    for (const s of [client, upstream]) {
      s.setTimeout(0);
      s.setKeepAlive(true, 30_000);
      s.on('error', (e: Error & { code?: string }) => this.failed(e));
    }
    if (clientHead.length > 0) this.up.onData(clientHead);
    client.on('data', this.up.onData);
    upstream.on('data', this.down.onData);
    client.on('drain', this.down.onDrain);
    upstream.on('drain', this.up.onDrain);
    client.on('end', () => this.ended('client', upstream));
    upstream.on('end', () => this.ended('upstream', client));
    client.on('close', () => this.socketClosed('client', upstream));
    upstream.on('close', () => this.socketClosed('upstream', client));
    client.resume();
  }

  /** Bytes the upstream sent in the same read as its 101 head. */
  fromUpstream(chunk: Buffer): void {
    this.down.onData(chunk);
  }

  get closing(): boolean {
    return this.reason !== null;
  }

  get bytes(): { in: number; out: number } {
    return { in: this.up.bytes, out: this.down.bytes };
  }

  /**
   * The edge ends the tunnel (evacuation, drain): WebSocket gets close 1001
   * both ways between frames, then FIN; anything else FIN. Sockets still
   * open `closeTimeout` later are cut.
   */
  close(reason: CloseReason): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.down.close();
    this.up.close();
    this.armKill();
  }

  /** Cut at once (the edge is closing). */
  destroy(): void {
    this.reason ??= 'drain';
    this.client.destroy();
    this.upstream.destroy();
  }

  private ended(side: CloseReason, other: Socket): void {
    this.reason ??= side;
    other.end();
    this.armKill();
  }

  private socketClosed(side: CloseReason, other: Socket): void {
    this.reason ??= side;
    // Whatever is still queued for the other side may go; then it is cut.
    if (!other.destroyed) {
      other.end();
      this.armKill();
    }
    if (--this.open === 0) this.done();
  }

  private failed(e: Error & { code?: string }): void {
    if (this.reason === null && e.code !== 'ECONNRESET' && e.code !== 'EPIPE') this.reason = 'error';
    this.client.destroy();
    this.upstream.destroy();
  }

  private armKill(): void {
    if (this.killTimer !== null) return;
    this.killTimer = setTimeout(() => {
      this.client.destroy();
      this.upstream.destroy();
    }, this.closeTimeoutMs);
    this.killTimer.unref();
  }

  private done(): void {
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    this.info.release();
    this.owner.closed(this, this.reason ?? 'error');
  }
}
