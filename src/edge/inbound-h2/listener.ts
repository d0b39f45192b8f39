import {
  constants,
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import type { EdgeHttp2Config } from '../../config/index.js';
import type { ClientExchange } from '../exchange/client-exchange.js';
import { H2Exchange } from '../exchange/h2.js';
import { sweepInterval } from '../sweep.js';
import { Budget } from './budget.js';

export interface H2ListenerOptions {
  http2: EdgeHttp2Config;
  /** x-meridian-region on the answers given here (431). */
  region: string;
  /** edge.maxHeaderSize: the header list limit unless http2.maxHeaderListSize says. */
  maxHeaderSize: number;
  /** A new connection must have opened its first stream within this (timeouts.clientHeaders). */
  headersTimeout: number;
  /** A stream with no byte either way this long is cancelled (timeouts.idle). */
  streamIdleTimeout: number;
  /** EdgeStats.http2: plain counters. */
  counts: { sessions: number; streams: number; refused: Map<string, number> };
  handle(x: ClientExchange): void;
}

/** Per connection: what the budgets and the idle sweep read. */
interface SessionState {
  startedAt: number;
  open: number;
  served: number;
  lastActive: number;
  resets: Budget;
  control: Budget;
  calmed: boolean;
}

/** Node's own limits (not in the config): header fields per request and settings per SETTINGS frame. */
const MAX_HEADER_PAIRS = 128;
const MAX_SETTINGS = 32;

/**
 * Session errors raised when Node or nghttp2 closed a connection for the
 * client's frames (a CONTINUATION flood, an HPACK error, a stream past the
 * acknowledged concurrency limit, too many invalid frames), as the `reason`
 * label reads them. A reset socket or the client's own GOAWAY is not counted.
 */
const NODE_REASONS: Record<string, string> = {
  ERR_HTTP2_ERROR: 'protocol_error',
  ERR_HTTP2_TOO_MANY_INVALID_FRAMES: 'invalid_frames',
};

const ignore = () => {};

/**
 * Inbound HTTP/2: a node:http2 server that never listens itself. It takes
 * h2c connections from the fast path (after the preface, the bytes read so
 * far put back) and TLS connections whose ALPN chose h2; every stream
 * becomes an H2Exchange for the same pipeline.
 *
 * Node enforces SETTINGS_MAX_CONCURRENT_STREAMS (extra streams are refused,
 * and `maxRefusedStreams` of them close the connection), the header list
 * size after HPACK decoding (the stream is reset with ENHANCE_YOUR_CALM, so
 * an HPACK bomb never grows past it), CONTINUATION floods (nghttp2 >= 1.61
 * refuses more than 8 CONTINUATION frames per header block) and invalid
 * frames. Added here: a budget of streams the client cancels before their
 * answer began (rapid reset), one of SETTINGS and PING frames, a deadline for
 * a connection's first stream (a header block that never ends), an idle
 * timeout, and streams served a turn of the event loop later, so a stream
 * opened and reset in one read never reaches an origin.
 */
export class H2Listener {
  readonly server: Http2Server;
  private readonly sessions = new Map<ServerHttp2Session, SessionState>();
  private pending: { stream: ServerHttp2Stream; raw: string[]; state: SessionState }[] = [];
  private flushing = false;
  private readonly sweeper: NodeJS.Timeout;
  private readonly maxHeaderList: number;
  draining = false;

  constructor(readonly o: H2ListenerOptions) {
    const h = o.http2;
    this.maxHeaderList = h.maxHeaderListSize ?? o.maxHeaderSize;
    this.server = createServer({
      maxSessionInvalidFrames: h.maxInvalidFrames,
      maxSessionRejectedStreams: h.maxRefusedStreams,
      maxHeaderListPairs: MAX_HEADER_PAIRS,
      maxSettings: MAX_SETTINGS,
      settings: {
        maxConcurrentStreams: h.maxConcurrentStreams,
        maxHeaderListSize: this.maxHeaderList,
        enablePush: false,
      },
    });
    this.server.on('session', (session: ServerHttp2Session) => this.session(session));
    this.server.on('stream', (stream: ServerHttp2Stream, _h: unknown, _f: number, raw: string[]) =>
      this.stream(stream, raw),
    );
    const tick = sweepInterval(o.headersTimeout, h.idleTimeout);
    this.sweeper = setInterval(() => this.sweep(performance.now()), tick);
    this.sweeper.unref();
  }

  /** An h2c socket (its bytes read so far unshifted) or a TLS socket that chose h2. */
  accept(socket: Socket): void {
    if (this.draining) return void socket.destroy();
    this.server.emit('connection', socket);
  }

  /**
   * TLS: connections whose ALPN chose h2 come here, the rest (http/1.1, no
   * ALPN) go to the HTTPS server's own listener as before.
   */
  routeTls(tls: TlsServer): void {
    const http1 = tls.listeners('secureConnection') as ((s: TLSSocket) => void)[];
    tls.removeAllListeners('secureConnection');
    tls.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') return this.accept(socket);
      for (const l of http1) l.call(tls, socket);
    });
  }

  private session(session: ServerHttp2Session): void {
    const h = this.o.http2;
    const now = performance.now();
    const state: SessionState = {
      startedAt: now,
      open: 0,
      served: 0,
      lastActive: now,
      resets: new Budget(h.resetBurst, h.resetsPerSecond, now),
      control: new Budget(h.controlFrameBurst, h.controlFramesPerSecond, now),
      calmed: false,
    };
    this.o.counts.sessions++;
    this.sessions.set(session, state);
    const control = () => {
      if (!state.control.take()) this.calm(session, state, 'control_flood');
    };
    session.on('remoteSettings', control);
    session.on('ping', control);
    session.on('error', (err: Error & { code?: string }) => {
      const reason = NODE_REASONS[err.code ?? ''];
      if (!state.calmed && reason !== undefined) this.count(reason);
    });
    session.on('close', () => this.sessions.delete(session));
    if (this.draining) session.close();
  }

  private stream(stream: ServerHttp2Stream, raw: string[]): void {
    stream.on('error', ignore);
    // Captured now: a closed stream no longer has its session.
    const session = stream.session as ServerHttp2Session;
    const state = this.sessions.get(session);
    if (state === undefined || state.calmed) return void stream.close(constants.NGHTTP2_REFUSED_STREAM);
    state.open++;
    state.served++;
    this.o.counts.streams++;
    if (headerListSize(raw) > this.maxHeaderList) {
      // Node applies SETTINGS_MAX_HEADER_LIST_SIZE only once the client acknowledged our SETTINGS.
      this.count('header_list_too_large');
      state.open--;
      if (!stream.closed)
        stream.respond(
          { ':status': 431, 'x-meridian-region': this.o.region, 'content-length': '0' },
          { endStream: true },
        );
      return;
    }
    stream.once('close', () => {
      state.open--;
      state.lastActive = performance.now();
      // Cancelled before the answer began: a client's RST_STREAM (or our own reset before a head, rare).
      if (stream.rstCode !== constants.NGHTTP2_NO_ERROR && !stream.headersSent && !state.resets.take())
        this.calm(session, state, 'rapid_reset');
    });
    if (this.o.streamIdleTimeout > 0)
      stream.setTimeout(this.o.streamIdleTimeout, () => stream.close(constants.NGHTTP2_CANCEL));
    // Served after the rest of this read: a stream the same bytes reset is gone by then.
    this.pending.push({ stream, raw, state });
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = () => {
    const batch = this.pending;
    this.pending = [];
    this.flushing = false;
    for (const { stream, raw, state } of batch) {
      if (stream.closed || stream.destroyed || state.calmed) continue;
      this.o.handle(new H2Exchange(stream, raw));
    }
  };

  /** GOAWAY ENHANCE_YOUR_CALM and the connection closed: streams in flight are cut too. */
  private calm(session: ServerHttp2Session, state: SessionState, reason: string): void {
    if (state.calmed) return;
    state.calmed = true;
    this.count(reason);
    // GOAWAY now, the teardown after this read: destroyed inside nghttp2's callbacks (a stream's
    // close), Node would send INTERNAL_ERROR instead. An error with the code: destroy(undefined,
    // code) sends NO_ERROR, the error argument's default.
    if (!session.destroyed) session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    setImmediate(() => session.destroy(new Error(`http2 ${reason}`), constants.NGHTTP2_ENHANCE_YOUR_CALM));
  }

  private count(reason: string): void {
    const r = this.o.counts.refused;
    r.set(reason, (r.get(reason) ?? 0) + 1);
  }

  /**
   * A client that has not acknowledged our SETTINGS within the header
   * timeout is closed (until it does, nghttp2 refuses streams past the limit
   * one by one and never closes it); a connection with no stream open is
   * closed when its first stream is late (a header block that never ends),
   * or when idle.
   */
  private sweep(now: number): void {
    for (const [session, state] of this.sessions) {
      if (state.calmed) continue;
      const late = now - state.startedAt >= this.o.headersTimeout && this.o.headersTimeout > 0;
      if (late && session.pendingSettingsAck) {
        this.calm(session, state, 'settings_timeout');
        continue;
      }
      if (state.open > 0) continue;
      const first = state.served === 0;
      const limit = first ? this.o.headersTimeout : this.o.http2.idleTimeout;
      if (limit <= 0 || now - state.lastActive < limit) continue;
      if (first) this.calm(session, state, 'headers_timeout');
      else session.close();
    }
  }

  /** GOAWAY to every connection: streams in flight finish, no new ones. */
  drain(): void {
    this.draining = true;
    for (const session of this.sessions.keys()) session.close();
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const session of this.sessions.keys()) session.destroy();
    this.sessions.clear();
  }
}

/** RFC 9113 6.5.2: names and values in octets plus 32 per field, pseudo-headers included. */
function headerListSize(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) n += raw[i].length + raw[i + 1].length + 32;
  return n;
}
