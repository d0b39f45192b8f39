import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface LinkFault {
  /** Extra round trip in ms; half is added to each direction. */
  rttMs: number;
  /** "reset": connections are refused at once; "blackhole": bytes vanish and connections hang. */
  cut: false | 'reset' | 'blackhole';
}

export interface FaultProxyOptions {
  target: { host: string; port: number };
  listen?: { host?: string; port?: number };
  rttMs?: number;
  /** Called with the first line of each HTTP request seen going to the target (e.g. "GET /health HTTP/1.1"). */
  onRequest?: (requestLine: string, delivered: boolean) => void;
}

const REQUEST_LINE = /^(GET|PUT|POST|DELETE|HEAD|PATCH|OPTIONS) \S+ HTTP\/1\.[01]\r?$/gm;

/**
 * A user-space TCP proxy that adds latency and can cut the link (tc netem is
 * not available). Each chunk is held for half the round trip in each
 * direction, in order.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly directions = new Set<LinkDirection>();
  /** Connections accepted while blackholed, connected upstream at the heal (unless their client gave up). */
  private readonly held = new Set<() => void>();
  private fault: LinkFault;
  private boundPort = 0;
  private target: { host: string; port: number };

  constructor(private readonly options: FaultProxyOptions) {
    this.fault = { rttMs: options.rttMs ?? 0, cut: false };
    this.target = options.target;
    this.server = createServer((client) => this.accept(client));
  }

  async start(): Promise<this> {
    const { host = '127.0.0.1', port = 0 } = this.options.listen ?? {};
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    this.boundPort = (this.server.address() as { port: number }).port;
    return this;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Where new connections go from now on (the lab's links learn their relay's port once listening). */
  retarget(target: { host: string; port: number }): void {
    this.target = target;
  }

  current(): LinkFault {
    return { ...this.fault };
  }

  set(fault: Partial<LinkFault>): void {
    this.fault = { ...this.fault, ...fault };
    // A cut link breaks connections already open too: a reset one closes
    // them, a blackhole one holds their bytes (see LinkDirection).
    if (this.fault.cut === 'reset') for (const s of this.sockets) s.destroy();
    if (this.fault.cut === false) {
      for (const d of this.directions) d.flush();
      const held = [...this.held];
      this.held.clear();
      for (const connect of held) connect();
    }
  }

  private track(socket: Socket) {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private countRequests(chunk: Buffer, delivered: boolean) {
    if (!this.options.onRequest) return;
    for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE))
      this.options.onRequest(m[0].trimEnd(), delivered);
  }

  /** Connections open through the proxy (both ends of each counted), for tests. */
  get openSockets(): number {
    return this.sockets.size;
  }

  private accept(client: Socket) {
    this.track(client);
    if (this.fault.cut === 'reset') return this.refuse(client);
    if (this.fault.cut === 'blackhole') return this.hold(client);
    client.pause();
    this.connect(client, []);
  }

  /**
   * A connection opened across a blackholed link waits, as a SYN is retried, until the heal; what
   * its client writes meanwhile waits with it. A client that gives up first leaves nothing behind.
   */
  private hold(client: Socket) {
    const early: Buffer[] = [];
    let bytes = 0;
    const keep = (chunk: Buffer) => {
      early.push(chunk);
      bytes += chunk.length;
      if (bytes > WINDOW_BYTES) client.pause();
    };
    const healed = () => {
      client.off('data', keep);
      client.pause();
      this.connect(client, early);
    };
    client.on('data', keep);
    client.once('close', () => this.held.delete(healed));
    this.held.add(healed);
  }

  private connect(client: Socket, early: Buffer[]) {
    if (client.destroyed) return;
    const upstream = createConnection(this.target);
    this.track(upstream);
    upstream.once('connect', () => {
      const link = () => this.fault;
      const toTarget = new LinkDirection(client, upstream, link, (chunk, delivered) =>
        this.countRequests(chunk, delivered),
      );
      const back = new LinkDirection(upstream, client, link);
      for (const d of [toTarget, back]) {
        this.directions.add(d);
        d.done.then(() => this.directions.delete(d));
      }
      for (const chunk of early) toTarget.send(chunk);
      client.resume();
    });
    // The target is gone (an origin that died): let the caller see its request
    // fail, as with a crashed server, and count the attempt.
    upstream.once('error', () => this.refuse(client));
  }

  private refuse(client: Socket) {
    client.resume();
    const timer = setTimeout(() => client.destroy(), 200);
    timer.unref();
    client.once('data', (chunk: Buffer) => {
      this.countRequests(chunk, false);
      clearTimeout(timer);
      client.destroy();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What a sender may have on the wire before a blackholed link stops it (a TCP window's worth). */
const WINDOW_BYTES = 256 * 1024;
type Pending = { chunk: Buffer; dueAt: number } | { end: 'end' | 'close'; dueAt: number };

/**
 * One direction of a proxied connection. Chunks leave half a round trip after
 * they came, in order. A blackholed link holds them and the FIN or close
 * behind them, and stops reading the sender once a window's worth waits: TCP
 * retransmits across a partition, so a stream resumes whole at the heal (or
 * its ends time out); bytes never vanish from the middle of a live stream,
 * which no real network does and which protocols like NATS's routes cannot
 * survive unnoticed.
 */
class LinkDirection {
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private finished!: () => void;
  /** Resolves once the close went through (or the receiver is gone). */
  readonly done = new Promise<void>((resolve) => {
    this.finished = resolve;
  });

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly link: () => LinkFault,
    private readonly onChunk?: (chunk: Buffer, delivered: boolean) => void,
  ) {
    from.on('data', (chunk: Buffer) => this.send(chunk));
    from.on('end', () => this.push({ end: 'end', dueAt: this.dueAt() }));
    from.on('close', () => this.push({ end: 'close', dueAt: this.dueAt() }));
    // The receiver is gone: what waits for it is lost; the other direction closes the sender in order.
    to.on('close', () => this.dropAll());
  }

  /** Sends a chunk down this direction, after the link's delay (or at the heal). */
  send(chunk: Buffer): void {
    this.push({ chunk, dueAt: this.dueAt() });
  }

  private dueAt(): number {
    return performance.now() + this.link().rttMs / 2;
  }

  private push(p: Pending) {
    this.queue.push(p);
    if ('chunk' in p) {
      this.queuedBytes += p.chunk.length;
      if (this.queuedBytes > WINDOW_BYTES) this.from.pause();
    }
    this.flush();
  }

  /** Sends what is due, unless the link is blackholed; called again at the heal. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.link().cut === 'blackhole') return;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0].dueAt <= now) {
      const p = this.queue.shift()!;
      if ('chunk' in p) {
        this.queuedBytes -= p.chunk.length;
        if (!this.to.destroyed) this.to.write(p.chunk);
        this.onChunk?.(p.chunk, !this.to.destroyed);
      } else if (p.end === 'end') this.to.end();
      else {
        this.to.destroySoon();
        this.finished();
      }
    }
    if (this.queuedBytes <= WINDOW_BYTES && this.from.isPaused() && !this.from.destroyed) this.from.resume();
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => this.flush(), this.queue[0].dueAt - now);
      this.timer.unref();
    }
  }

  private dropAll() {
    if (this.timer) clearTimeout(this.timer);
    for (const p of this.queue.splice(0)) if ('chunk' in p) this.onChunk?.(p.chunk, false);
    this.queuedBytes = 0;
    this.finished();
  }
}
