import type { ServerResponse } from 'node:http';
import type { Snapshot } from '../core/model.js';
import { snapshotToJson } from '../feed/codec.js';
import type { Logger } from '../log.js';
import type { ControlMetrics } from './metrics.js';

export interface StreamLimits {
  /** A follower whose unsent data (Node's buffer for its socket) passes this is dropped. */
  maxBufferedBytes: number;
  /** A follower that has not taken its data for this long is dropped. */
  stallTimeoutMs: number;
  /** A comment line this often keeps proxies and the client's idle timer from closing a quiet stream. */
  pingMs: number;
}

export const STREAM_LIMITS: StreamLimits = {
  maxBufferedBytes: 1024 * 1024,
  stallTimeoutMs: 30_000,
  pingMs: 10_000,
};

interface Follower {
  res: ServerResponse;
  /** The newest frame not yet written because the socket is backed up; older ones are forgotten. */
  pending?: string;
  /** Since when the socket has been backed up (ms epoch). */
  blockedSince?: number;
}

/**
 * The snapshot stream (SSE). Each client gets the current snapshot when it
 * connects and every new version after that.
 *
 * Memory is bounded per follower: a follower only ever needs the newest
 * snapshot (each is complete, not a delta), so while its socket is backed up
 * new snapshots replace the one waiting instead of queueing behind it
 * (coalescing). A follower that stays backed up for `stallTimeoutMs`, or whose
 * unsent data passes `maxBufferedBytes`, is dropped; it reconnects and starts
 * again from the current snapshot.
 */
export class SnapshotStream {
  private readonly clients = new Map<ServerResponse, Follower>();
  private readonly ping: NodeJS.Timeout;
  private readonly limits: StreamLimits;

  constructor(
    private readonly current: () => Snapshot,
    private readonly metrics: ControlMetrics,
    private readonly log?: Logger,
    limits: Partial<StreamLimits> = {},
  ) {
    this.limits = { ...STREAM_LIMITS, ...limits };
    this.ping = setInterval(() => {
      for (const f of this.clients.values()) this.send(f, ': ping\n\n', false);
    }, this.limits.pingMs);
    this.ping.unref();
  }

  get size() {
    return this.clients.size;
  }

  attach(res: ServerResponse) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const follower: Follower = { res };
    this.clients.set(res, follower);
    this.metrics.streamClients.set(this.clients.size);
    res.on('close', () => {
      this.clients.delete(res);
      this.metrics.streamClients.set(this.clients.size);
    });
    // A reset peer must not become an unhandled `error` event; `close` follows and cleans up.
    res.on('error', () => {});
    res.on('drain', () => {
      follower.blockedSince = undefined;
      const next = follower.pending;
      follower.pending = undefined;
      if (next) this.send(follower, next, true);
    });
    res.write('retry: 1000\n\n');
    this.send(follower, frame(this.current()), true);
  }

  publish(snapshot: Snapshot) {
    if (this.clients.size === 0) return;
    const text = frame(snapshot);
    for (const f of this.clients.values()) this.send(f, text, true);
  }

  close() {
    clearInterval(this.ping);
    for (const c of this.clients.keys()) c.end();
    this.clients.clear();
  }

  /** Writes now, or keeps `text` as the one pending frame (pings are skipped) while the socket is backed up. */
  private send(f: Follower, text: string, isSnapshot: boolean) {
    const { res } = f;
    if (res.destroyed) return;
    if (res.writableNeedDrain) {
      if (res.writableLength > this.limits.maxBufferedBytes) return this.drop(f, 'buffer');
      const now = Date.now();
      f.blockedSince ??= now;
      if (now - f.blockedSince > this.limits.stallTimeoutMs) return this.drop(f, 'stalled');
      if (isSnapshot) {
        if (f.pending) this.metrics.streamCoalesced.inc();
        f.pending = text;
      }
      return;
    }
    res.write(text);
  }

  private drop(f: Follower, reason: 'buffer' | 'stalled') {
    const { res } = f;
    this.metrics.streamDropped.inc({ reason });
    this.log?.warn(
      {
        remote: res.socket?.remoteAddress,
        port: res.socket?.remotePort,
        reason,
        unsentBytes: res.writableLength,
        blockedMs: f.blockedSince ? Date.now() - f.blockedSince : 0,
      },
      'snapshot stream follower dropped: it is not reading; it reconnects and starts from the current snapshot',
    );
    f.pending = undefined;
    this.clients.delete(res);
    this.metrics.streamClients.set(this.clients.size);
    res.destroy();
  }
}

const frame = (s: Snapshot) =>
  `event: snapshot\nid: ${s.version}\ndata: ${JSON.stringify(snapshotToJson(s))}\n\n`;
