import { createServer, type Server } from 'node:http';
import { FaultProxy, type LinkFault } from './fault-proxy.js';

export interface LinkSpec {
  /** Name of this proxy, e.g. "edge:us-east-1" or "replication:us-west-2/0". */
  name: string;
  /** Region the proxy carries traffic into. */
  region: string;
  targetPort: number;
  rttMs: number;
}

/**
 * Runs the lab's inter-region fault proxies in a process of their own, so the
 * link's delay is not at the mercy of the traffic generator's event loop.
 * Admin API: GET /links, POST /links {cut?, rttMs?} applies to every proxy,
 * or to one region's with ?region=ID.
 */
export class LinkHost {
  private readonly proxies = new Map<string, { spec: LinkSpec; proxy: FaultProxy }>();
  private readonly admin: Server;
  private adminPort = 0;

  constructor(private readonly specs: readonly LinkSpec[]) {
    this.admin = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://links');
        const region = url.searchParams.get('region');
        const chosen = [...this.proxies.values()].filter((p) => !region || p.spec.region === region);
        if (url.pathname === '/links' && req.method === 'POST') {
          try {
            const fault = JSON.parse(body || '{}') as Partial<LinkFault>;
            for (const p of chosen) p.proxy.set(fault);
          } catch {
            res.writeHead(400).end('expected JSON {cut?, rttMs?}');
            return;
          }
        } else if (url.pathname !== '/links') {
          res.writeHead(404).end();
          return;
        }
        const state = chosen.map((p) => ({ ...p.spec, port: p.proxy.port, ...p.proxy.current() }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state));
      });
    });
  }

  async start(): Promise<this> {
    for (const spec of this.specs) {
      const proxy = await new FaultProxy({
        target: { host: '127.0.0.1', port: spec.targetPort },
        rttMs: spec.rttMs,
      }).start();
      this.proxies.set(spec.name, { spec, proxy });
    }
    await new Promise<void>((resolve) => this.admin.listen(0, '127.0.0.1', () => resolve()));
    this.adminPort = (this.admin.address() as { port: number }).port;
    return this;
  }

  /** The ready line's fields: admin address and each proxy's port. */
  describe() {
    return {
      admin: `127.0.0.1:${this.adminPort}`,
      ports: Object.fromEntries([...this.proxies].map(([name, p]) => [name, p.proxy.port])),
    };
  }

  async close(): Promise<void> {
    this.admin.closeAllConnections();
    await new Promise<void>((resolve) => this.admin.close(() => resolve()));
    await Promise.all([...this.proxies.values()].map((p) => p.proxy.close()));
  }
}
