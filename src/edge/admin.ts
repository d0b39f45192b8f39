import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isMeridianError, MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import { type FaultSettings, NO_FAULT, parseFault } from './fault.js';
import { edgeRegistry } from './metrics.js';
import { closeServer, type HostPort, listen } from './server.js';
import type { StatsSnapshot } from './stats.js';

/** What the admin port serves from: one process, or all workers of a cluster. */
export interface AdminBackend {
  region: string;
  stats(): Promise<StatsSnapshot>;
  health(): Promise<unknown>;
  fault(): FaultSettings;
  setFault(f: FaultSettings): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new MeridianError('BAD_REQUEST', 'body too large'));
      else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new MeridianError('BAD_REQUEST', 'body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

/** Admin port: /metrics (Prometheus), /meridian/health, and the drill fault stage (POST/DELETE /fault). */
export class AdminServer {
  private readonly server: Server;
  private readonly registry;

  constructor(
    private readonly backend: AdminBackend,
    private readonly log: Logger,
  ) {
    this.registry = edgeRegistry(backend.region, () => backend.stats());
    this.server = createServer((req, res) => {
      this.route(req, res).catch((e) => this.fail(res, e));
    });
  }

  listen(at: HostPort): Promise<HostPort> {
    return listen(this.server, at, (e) => this.log.warn({ err: e.message }, 'admin listener error'));
  }

  private send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
    const text = type === 'application/json' ? JSON.stringify(body) : String(body);
    res.writeHead(status, { 'content-type': type, 'x-meridian-region': this.backend.region });
    res.end(text);
  }

  private fail(res: ServerResponse, e: unknown): void {
    const err = isMeridianError(e) ? e : new MeridianError('INTERNAL', (e as Error).message);
    if (!isMeridianError(e)) this.log.error({ err: e }, 'admin request failed');
    if (!res.headersSent) this.send(res, err.spec.httpStatus, { error: err.toJSON() });
    else res.destroy();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && req.method === 'GET') {
      return this.send(res, 200, await this.registry.metrics(), this.registry.contentType);
    }
    if (path === '/meridian/health' && req.method === 'GET')
      return this.send(res, 200, await this.backend.health());
    if (path === '/fault') {
      if (req.method === 'GET') return this.send(res, 200, this.backend.fault());
      if (req.method === 'POST') {
        const fault = parseFault(await readJson(req));
        await this.backend.setFault(fault);
        return this.send(res, 200, fault);
      }
      if (req.method === 'DELETE') {
        await this.backend.setFault(NO_FAULT);
        return this.send(res, 200, NO_FAULT);
      }
      throw new MeridianError('BAD_REQUEST', `${req.method} /fault: use GET, POST or DELETE`);
    }
    throw new MeridianError('NOT_FOUND', `no admin endpoint ${path}`);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
