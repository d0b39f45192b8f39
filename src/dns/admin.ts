// Admin HTTP: Prometheus /metrics, /meridian/health (liveness) and /meridian/ready,
// for `meridian dns` and `meridian dns sync --watch`; /healthz and /readyz answer the same, as
// external-dns and Kubernetes' own components name them.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort, type HostPort } from './sockets.js';

export interface AdminHandlers {
  metrics: () => Promise<string>;
  contentType: string;
  /** Liveness: 200, or 503 when the object it returns says `healthy: false`. */
  health: () => unknown | Promise<unknown>;
  /** 200 when `ready` is true, else 503 (SPEC: waitingFor, or draining). */
  ready: () => Readiness | Promise<Readiness>;
  /** Where errors after listening go (an accept failing with EMFILE is an `error` event). */
  onError?: (e: Error) => void;
}

export interface Readiness {
  ready: boolean;
  waitingFor?: string[];
  draining?: boolean;
}

export interface AdminServer {
  address: string;
  close(): Promise<void>;
}

export function startAdmin(at: HostPort, handlers: AdminHandlers): Promise<AdminServer> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        const body = await handlers.metrics();
        res.writeHead(200, { 'content-type': handlers.contentType }).end(body);
      } else if (path === '/meridian/health' || path === '/healthz') {
        const health = await handlers.health();
        const status = (health as { healthy?: unknown } | null)?.healthy === false ? 503 : 200;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(health));
      } else if (path === '/meridian/ready' || path === '/readyz') {
        const ready = await handlers.ready();
        res.writeHead(ready.ready ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ready));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND"}}');
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'INTERNAL', message: (e as Error).message } }));
    }
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      server.on('error', (e) => handlers.onError?.(e));
      const { port } = server.address() as AddressInfo;
      resolve({
        address: formatHostPort(at.host, port),
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
