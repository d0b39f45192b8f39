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
 * direction; order is kept because the delay is the same for every chunk.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
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
    // them, a blackhole one stops moving their bytes (see pipeDelayed).
    if (this.fault.cut === 'reset') for (const s of this.sockets) s.destroy();
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

  private accept(client: Socket) {
    this.track(client);
    if (this.fault.cut === 'reset') return this.refuse(client);
    if (this.fault.cut === 'blackhole') {
      client.on('data', () => {}); // swallow; the peer times out as on a dead link
      return;
    }
    client.pause();
    const upstream = createConnection(this.target);
    this.track(upstream);
    upstream.once('connect', () => {
      this.pipeDelayed(client, upstream, true);
      this.pipeDelayed(upstream, client, false);
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

  private pipeDelayed(from: Socket, to: Socket, toTarget: boolean) {
    from.on('data', (chunk: Buffer) => {
      if (toTarget) this.countRequests(chunk, true);
      if (this.fault.cut === 'blackhole') return;
      const delay = this.fault.rttMs / 2;
      if (delay <= 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      // Timers fire in order of creation for equal delays, so chunks keep their order.
      const timer = setTimeout(() => {
        if (!to.destroyed && this.fault.cut !== 'blackhole') to.write(chunk);
      }, delay);
      timer.unref();
    });
    from.on('end', () => {
      const timer = setTimeout(() => to.end(), this.fault.rttMs / 2);
      timer.unref();
    });
    from.on('close', () => {
      const timer = setTimeout(() => to.destroy(), this.fault.rttMs / 2 + 5);
      timer.unref();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
