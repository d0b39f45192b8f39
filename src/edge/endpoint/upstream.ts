import type { Cancelable, EdgeContext } from '../context.js';
import type { Origin } from '../origins/origin.js';
import { writeResponseHead } from '../outbound/response-head.js';
import type { EdgeRuntime } from '../runtime.js';
import type { Exchange, ExchangeHandler, UpstreamError } from '../upstream/exchange.js';
import type { H1Pool } from '../upstream/pool.js';

const SMALL_BODY = 16 * 1024;

/** Why an attempt failed before any response byte reached the client. */
export type FailureKind = 'connect' | 'reset' | 'timeout' | 'status' | 'protocol';

export interface AttemptOwner {
  /** The attempt failed before the response started; decide what to do next. */
  failed(ctx: EdgeContext, rt: EdgeRuntime, attempt: UpstreamAttempt, kind: FailureKind): void;
  /** Whether a 502/503/504 from this attempt should be retried instead of passed on. */
  wouldRetry(ctx: EdgeContext, rt: EdgeRuntime, attempt: UpstreamAttempt): boolean;
}

/**
 * One exchange with an origin or a peer edge (src/edge/upstream): the
 * response streams straight to the client with backpressure (onData returns
 * false while the client socket is full), and a client that goes away
 * aborts the upstream request (its connection is closed).
 */
export class UpstreamAttempt implements ExchangeHandler, Cancelable {
  private exchange: Exchange | null = null;
  private resume: (() => void) | null = null;
  private discard = false;
  private done = false;
  /** Body bytes still to come when the origin sent Content-Length; the last chunk ends the response. */
  private remaining = -1;
  private ended = false;
  private wroteBody = false;
  status = 0;
  error: (Error & { code?: string }) | null = null;
  private startedAt = 0;

  constructor(
    readonly ctx: EdgeContext,
    readonly rt: EdgeRuntime,
    readonly region: string,
    /** null when the upstream is a peer edge. */
    readonly origin: Origin | null,
    readonly label: string,
    private readonly owner: AttemptOwner,
  ) {}

  start(pool: H1Pool, headers: string[]): void {
    if (this.origin !== null) this.origin.inFlight++;
    const ctx = this.ctx;
    // The first attempt starts with the request (the stages before take microseconds).
    this.startedAt = ctx.attempts === null ? ctx.startedAt : performance.now();
    ctx.current = this;
    const x = ctx.x;
    this.exchange = pool.request(
      {
        method: x.method,
        path: x.target,
        headers,
        body: ctx.bufferedBody ?? (ctx.hasBody ? x.body : null),
        chunked: ctx.contentLength < 0,
        retrySafe: ctx.retrySafe,
      },
      this,
    );
  }

  /** The client went away: stop the upstream request too. */
  cancel(): void {
    if (this.done) return;
    this.settle();
    this.exchange?.abort();
  }

  onHeaders(status: number, raw: string[]): boolean {
    const { ctx, rt } = this;
    this.status = status;
    this.record(status);
    if (this.origin !== null) {
      if (status >= 500) this.origin.failure(Date.now(), ctx.service!.origins!.mayEject);
      else this.origin.success();
    }
    if (ctx.service!.retryStatuses.has(status) && this.owner.wouldRetry(ctx, rt, this)) {
      // Read and drop the body so the connection stays reusable; retry once it ends.
      this.discard = true;
      return true;
    }
    if (ctx.finished) {
      this.settle();
      return false;
    }
    this.remaining = writeResponseHead(ctx, rt, status, raw, this.origin === null);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discard) return true;
    const res = this.ctx.x;
    if (this.ctx.finished) return false;
    if (this.remaining > 0) this.remaining -= chunk.length;
    if (this.remaining === 0) {
      // Head and the whole body in one write, without waiting for onComplete. A small
      // body goes as a latin1 string: Node then sends head + body as one string write
      // instead of corking a header string and a buffer into a writev.
      this.ended = true;
      // (headersSent turns true at writeHead, before anything is written: track the body instead)
      if (!this.wroteBody && chunk.length <= SMALL_BODY) res.end(chunk.toString('latin1'), 'latin1');
      else res.end(Buffer.from(chunk));
      return true;
    }
    // The chunk is the connection's read buffer: the client's socket may keep it queued.
    this.wroteBody = true;
    if (res.write(Buffer.from(chunk))) return true;
    this.resume ??= () => this.exchange?.resume();
    res.onDrain(this.resume);
    return false;
  }

  onComplete(): void {
    this.settle();
    if (this.discard) this.owner.failed(this.ctx, this.rt, this, 'status');
    else if (!this.ended) this.ctx.x.end();
  }

  onError(err: UpstreamError): void {
    this.settle();
    this.error = err;
    const { ctx, rt } = this;
    if (ctx.finished) return;
    const kind = err.kind;
    if (this.status === 0) this.record(kind === 'timeout' ? 504 : 502);
    if (this.origin !== null && (kind === 'connect' || kind === 'reset' || kind === 'timeout')) {
      this.origin.failure(Date.now(), ctx.service!.origins!.mayEject);
      if (kind === 'connect' && this.origin.connectFailure()) {
        rt.log.warn(
          { origin: this.origin.url, region: this.origin.region },
          'origin down (connections refused)',
        );
      }
    }
    if (ctx.x.headersSent) {
      // The response already started: a retry would mix two bodies. Cut the client off.
      ctx.x.destroy();
      return;
    }
    this.owner.failed(ctx, rt, this, kind);
  }

  private settle(): void {
    if (this.done) return;
    this.done = true;
    if (this.origin !== null) this.origin.inFlight--;
  }

  private record(status: number): void {
    const ms = performance.now() - this.startedAt;
    // What this region's origins do, before any retry elsewhere hides it (relative health, canary judgement).
    if (this.origin !== null) this.rt.stats.countOriginAttempt(status, ms);
    this.ctx.addAttempt({ region: this.region, origin: this.label, status, ms });
  }
}
