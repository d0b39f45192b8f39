import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createLogger, type Logger } from '../../log.js';
import { PeerReplicator } from './replicator.js';
import { type Entry, WatchStore } from './store.js';

export interface WatchServiceOptions {
  region: string;
  /** Name of this origin, unique in the lab (e.g. "us-east-1/0"). */
  id: string;
  host?: string;
  port?: number;
  /** Other origins to copy writes to (same region directly, other regions through the fault proxy). */
  peers?: string[];
  /** Fetch a full copy from the first peer that answers before serving (an origin coming back). */
  bootstrap?: boolean;
  log?: Logger;
}

export interface OriginFault {
  latencyMs: number;
  errorRate: number;
}

const ITEM = /^\/users\/([^/]+)\/items(?:\/([^/]+))?$/;

/**
 * The lab's sample service: a per-user watch list. GET /users/U/items,
 * PUT /users/U/items/I (body: the value), DELETE /users/U/items/I, GET /health.
 * /_lab/* is for the lab: replication, dumps, fault injection.
 */
export class WatchService {
  readonly store: WatchStore;
  private readonly server: Server;
  private readonly replicator: PeerReplicator;
  private readonly log: Logger;
  private fault: OriginFault = { latencyMs: 0, errorRate: 0 };
  private boundPort = 0;

  constructor(private readonly options: WatchServiceOptions) {
    this.log = options.log ?? createLogger('lab-origin');
    this.store = new WatchStore(options.id);
    this.replicator = new PeerReplicator(options.peers ?? [], this.log);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => this.send(res, 500, { error: (e as Error).message }));
    });
    this.server.keepAliveTimeout = 5000;
  }

  async start(): Promise<this> {
    if (this.options.bootstrap) await this.bootstrap();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.boundPort = (this.server.address() as { port: number }).port;
    return this;
  }

  get port(): number {
    return this.boundPort;
  }

  private async bootstrap() {
    for (const peer of this.options.peers ?? []) {
      try {
        const res = await fetch(`${peer}/_lab/dump`, { signal: AbortSignal.timeout(2000) });
        if (!res.ok) continue;
        for (const e of (await res.json()) as Entry[]) this.store.apply(e);
        this.log.info({ peer, entries: this.store.size }, 'bootstrapped from peer');
        return;
      } catch {
        // try the next peer
      }
    }
  }

  private send(res: ServerResponse, status: number, body?: unknown) {
    if (res.headersSent) return res.destroy();
    res.setHeader('x-lab-region', this.options.region);
    res.setHeader('x-lab-origin', this.options.id);
    if (body === undefined) return res.writeHead(status).end();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://origin');
    const body = await readBody(req);
    if (url.pathname.startsWith('/_lab/'))
      return this.handleLab(req.method ?? 'GET', url.pathname, body, res);
    if (this.fault.latencyMs > 0) await new Promise((r) => setTimeout(r, this.fault.latencyMs));
    if (url.pathname === '/health')
      return this.send(res, 200, { status: 'ok', region: this.options.region, origin: this.options.id });
    // A bad deploy: health checks pass, some real requests fail.
    if (this.fault.errorRate > 0 && Math.random() < this.fault.errorRate)
      return this.send(res, 500, { error: 'injected fault' });
    const m = ITEM.exec(url.pathname);
    if (!m) return this.send(res, 404, { error: 'not found' });
    const user = decodeURIComponent(m[1]);
    const item = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (req.method === 'GET' && item === undefined)
      return this.send(res, 200, { user, items: this.store.list(user) });
    if (req.method === 'PUT' && item !== undefined) {
      this.replicator.enqueue(this.store.put(user, item, body || item));
      return this.send(res, 200, { user, item, stored: true });
    }
    if (req.method === 'DELETE' && item !== undefined) {
      this.replicator.enqueue(this.store.delete(user, item));
      return this.send(res, 200, { user, item, deleted: true });
    }
    return this.send(res, 405, { error: 'method not allowed' });
  }

  private handleLab(method: string, path: string, body: string, res: ServerResponse) {
    if (path === '/_lab/replicate' && method === 'POST') {
      for (const e of JSON.parse(body) as Entry[]) this.store.apply(e);
      return this.send(res, 204);
    }
    if (path === '/_lab/dump') return this.send(res, 200, [...this.store.entries()]);
    if (path === '/_lab/status')
      return this.send(res, 200, {
        entries: this.store.size,
        pending: this.replicator.pending(),
        fault: this.fault,
      });
    if (path === '/_lab/fault' && method === 'POST') {
      const f = JSON.parse(body || '{}') as Partial<OriginFault>;
      this.fault = { latencyMs: Number(f.latencyMs ?? 0), errorRate: Number(f.errorRate ?? 0) };
      this.log.info({ fault: this.fault }, 'fault set');
      return this.send(res, 200, this.fault);
    }
    if (path === '/_lab/fault' && method === 'DELETE') {
      this.fault = { latencyMs: 0, errorRate: 0 };
      return this.send(res, 200, this.fault);
    }
    return this.send(res, 404, { error: 'not found' });
  }

  async close(): Promise<void> {
    this.replicator.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 8 * 1024 * 1024) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
