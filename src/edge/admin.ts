import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { EdgeConfig } from '../config/index.js';
import { BearerSecret, readSecret, type Warn } from '../config/secret.js';
import { isMeridianError, MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MetricsJson } from '../metrics-conventions.js';
import { type FaultSettings, NO_FAULT, parseFault } from './fault.js';
import { edgeRegistry } from './metrics.js';
import { closeServer, type HostPort, listen } from './server.js';
import type { StatsSnapshot } from './stats.js';

/** What the admin port serves from: one process, or all workers of a cluster. */
export interface AdminBackend {
  region: string;
  stats(): Promise<StatsSnapshot>;
  health(): Promise<unknown>;
  /** /meridian/ready: 200 when `ready`, else 503 with what it waits for (or draining). */
  ready(): Promise<{ ready: boolean; waitingFor?: string[]; draining?: boolean }>;
  fault(): FaultSettings;
  setFault(f: FaultSettings): Promise<void>;
  /** A cluster primary: its workers' process metrics. */
  workerProcessMetrics?(): Promise<MetricsJson[]>;
}

/** Who may change the edge through the admin port (edge.admin). */
export interface AdminAccess {
  /** Mutating routes exist only when true. */
  faults: boolean;
  /** The operator token they need; null only when faults is false. */
  token: BearerSecret | null;
}

/** The admin port's access from edge.admin; reads the token (env or file) once, at start. */
export function adminAccess(admin: EdgeConfig['admin'], warn?: Warn): AdminAccess {
  if (!admin.faults || admin.token === undefined) return { faults: false, token: null };
  return { faults: true, token: new BearerSecret(readSecret(admin.token, 'edge.admin.token', { warn })) };
}

const MAX_BODY = 64 * 1024;
const JSON_TYPE = /^application\/json\s*(;.*)?$/i;

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

/**
 * Admin port: /metrics (Prometheus), /meridian/health (liveness), /meridian/ready, and the drill fault
 * stage (GET /fault; POST/DELETE /fault only with edge.admin.faults and the token).
 */
export class AdminServer {
  private readonly server: Server;
  private readonly registry;

  constructor(
    private readonly backend: AdminBackend,
    private readonly log: Logger,
    private readonly access: AdminAccess = { faults: false, token: null },
  ) {
    this.registry = edgeRegistry(
      backend.region,
      () => backend.stats(),
      backend.workerProcessMetrics?.bind(backend),
    );
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
    if (path === '/meridian/ready' && req.method === 'GET') {
      const ready = await this.backend.ready();
      return this.send(res, ready.ready ? 200 : 503, ready);
    }
    if (path === '/fault') {
      if (req.method === 'GET') return this.send(res, 200, this.backend.fault());
      if (req.method !== 'POST' && req.method !== 'DELETE') {
        throw new MeridianError('BAD_REQUEST', `${req.method} /fault: use GET, POST or DELETE`);
      }
      return this.mutate(req, res, async () => {
        const fault = req.method === 'POST' ? parseFault(await readJson(req)) : NO_FAULT;
        await this.backend.setFault(fault);
        return fault;
      });
    }
    throw new MeridianError('NOT_FOUND', `no admin endpoint ${path}`);
  }

  /**
   * A route that changes the edge: off unless edge.admin.faults, then an
   * operator bearer token and a JSON body (a browser form cannot send one
   * without a CORS preflight). Every call, accepted or refused, is one audit line.
   */
  private async mutate(req: IncomingMessage, res: ServerResponse, apply: () => Promise<unknown>) {
    const audit = {
      audit: 'edge-admin',
      method: req.method,
      path: (req.url ?? '/').split('?')[0],
      remote: req.socket.remoteAddress,
    };
    try {
      this.authorize(req);
      const result = await apply();
      this.log.info({ ...audit, outcome: 'accepted', status: 200, result }, 'edge admin call accepted');
      this.send(res, 200, result);
    } catch (e) {
      const err = isMeridianError(e) ? e : new MeridianError('INTERNAL', (e as Error).message);
      this.log.warn(
        { ...audit, outcome: 'refused', status: err.spec.httpStatus, code: err.code, reason: err.message },
        'edge admin call refused',
      );
      // The body of a refused call is not read: close instead of leaving it in the connection.
      res.shouldKeepAlive = false;
      throw e;
    }
  }

  private authorize(req: IncomingMessage): void {
    if (!this.access.faults || this.access.token === null) {
      throw new MeridianError('FORBIDDEN', 'fault injection is off: set edge.admin.faults: true');
    }
    const token = this.access.token.check(req.headers.authorization);
    if (token === 'missing') {
      throw new MeridianError('UNAUTHORIZED', 'missing bearer token: send "Authorization: Bearer TOKEN"');
    }
    if (token === 'wrong') throw new MeridianError('UNAUTHORIZED', 'unknown bearer token');
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if ((req.method === 'POST' || hasBody) && !JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      throw new MeridianError('UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
    }
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
