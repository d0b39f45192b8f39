import type { ServerResponse } from 'node:http';
import type { Snapshot } from '../core/model.js';
import { snapshotToJson } from '../feed/codec.js';
import type { ControlMetrics } from './metrics.js';

/**
 * The snapshot stream (SSE). Each client gets the current snapshot when it
 * connects and every new version after that; a comment line every 10 s keeps
 * proxies and the client's idle timer from closing a quiet stream.
 */
export class SnapshotStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly ping: NodeJS.Timeout;

  constructor(
    private readonly current: () => Snapshot,
    private readonly metrics: ControlMetrics,
    pingMs = 10_000,
  ) {
    this.ping = setInterval(() => {
      for (const c of this.clients) c.write(': ping\n\n');
    }, pingMs);
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
    res.write('retry: 1000\n\n');
    res.write(frame(this.current()));
    this.clients.add(res);
    this.metrics.streamClients.set(this.clients.size);
    res.on('close', () => {
      this.clients.delete(res);
      this.metrics.streamClients.set(this.clients.size);
    });
  }

  publish(snapshot: Snapshot) {
    const text = frame(snapshot);
    for (const c of this.clients) c.write(text);
  }

  close() {
    clearInterval(this.ping);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}

const frame = (s: Snapshot) =>
  `event: snapshot\nid: ${s.version}\ndata: ${JSON.stringify(snapshotToJson(s))}\n\n`;
