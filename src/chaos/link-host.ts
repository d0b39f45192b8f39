import { createServer, type Server } from 'node:http';
import { FaultProxy, type LinkFault } from './fault-proxy.js';

export interface LinkSpec {
  /** Name of this proxy, e.g. "edge:us-east-1" or "control:us-east-1>us-west-2". */
  name: string;
  /**
   * Region whose processes use this proxy, or '*' when processes of several regions share it (one
   * URL in a config every region reads): cut with the regions it touches only by its `to` side.
   */
  from: string;
  /** Region (or site, such as the etcd witness) the proxy carries traffic into. */
  to: string;
  targetPort: number;
  rttMs: number;
}

/** A site's two addresses when the lab runs sites in network namespaces (src/lab/netns.ts). */
export interface LinkSite {
  /** Inside the site's namespace: where its relays listen. */
  address: string;
  /** The root namespace's end of the site's veth: where traffic into the site is delivered. */
  gateway: string;
}

/** Links chosen by the admin API's query: all; ?region=X those touching X; ?from=X&to=Y (either alone). */
export function selectLinks(specs: readonly LinkSpec[], query: URLSearchParams): LinkSpec[] {
  const region = query.get('region');
  const from = query.get('from');
  const to = query.get('to');
  return specs.filter(
    (s) =>
      (!region || s.to === region || s.from === region) && (!from || s.from === from) && (!to || s.to === to),
  );
}

/**
 * Runs the lab's inter-region fault proxies in a process of their own, so the
 * link's delay is not at the mercy of the traffic generator's event loop.
 * Admin API: GET /links, POST /links {cut?, rttMs?} applies to every proxy,
 * or to those `selectLinks` picks: ?region=ID (every link touching it), ?from=ID, ?to=ID.
 */
export class LinkHost {
  private readonly proxies = new Map<string, { spec: LinkSpec; proxy: FaultProxy }>();
  /** With namespaces: per link, the listener on the destination's gateway that hands traffic to the target. */
  private readonly deliveries: FaultProxy[] = [];
  private readonly admin: Server;
  private adminPort = 0;

  /**
   * With `sites`, a link between two of them crosses namespaces: its proxy sends to the relay in the
   * source's namespace (on the proxy's own port), and a listener on the destination's gateway (same
   * port) delivers to the target. Links every site shares (`from: '*'`) stay on loopback.
   */
  constructor(
    private readonly specs: readonly LinkSpec[],
    private readonly sites: Readonly<Record<string, LinkSite>> = {},
  ) {
    this.admin = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://links');
        const names = new Set(selectLinks(this.specs, url.searchParams).map((s) => s.name));
        const chosen = [...this.proxies.values()].filter((p) => names.has(p.spec.name));
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
      const from = this.sites[spec.from];
      const to = this.sites[spec.to];
      if (!from || !to) continue;
      proxy.retarget({ host: from.address, port: proxy.port });
      this.deliveries.push(
        await new FaultProxy({
          listen: { host: to.gateway, port: proxy.port },
          target: { host: '127.0.0.1', port: spec.targetPort },
        }).start(),
      );
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
    await Promise.all(this.deliveries.map((d) => d.close()));
  }
}
