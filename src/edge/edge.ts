import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { MeridianConfig } from '../config/index.js';
import { MeridianError } from '../errors.js';
import type { EdgeReport } from '../feed/report.js';
import type { SnapshotSource } from '../feed/source.js';
import type { GeoLocator } from '../geo/index.js';
import type { Logger } from '../log.js';
import { AdminServer, adminAccess } from './admin.js';
import { type EdgeResponse, InProcessExchange, type InProcessRequest } from './exchange/in-process.js';
import type { FaultSettings } from './fault.js';
import { FastListener } from './inbound-fast/listener.js';
import { H2Listener } from './inbound-h2/listener.js';
import { Pipeline } from './pipeline.js';
import { ReportCollector } from './report.js';
import { EdgeRuntime } from './runtime.js';
import {
  closeServer,
  createDataServer,
  formatHostPort,
  type HostPort,
  KEEP_ALIVE_TIMEOUT,
  listen,
  parseHostPort,
} from './server.js';

export interface EdgeOptions {
  config: MeridianConfig;
  region: string;
  source: SnapshotSource;
  geo: GeoLocator;
  log: Logger;
  /** Data-plane address; default edge.listen, else the region's edge URL. false: none (edge.request() only). */
  listen?: string | false;
  /** Admin address; default edge.admin. false: no admin server (a cluster worker). */
  admin?: string | false;
  accessLog?: Logger | null;
}

/** The address an edge listens on when neither --listen nor edge.listen says. */
export function defaultListen(config: MeridianConfig, region: string): string {
  if (config.edge.listen) return config.edge.listen;
  const r = config.regions.find((x) => x.id === region);
  if (!r) {
    const known = config.regions.map((x) => x.id).join(', ');
    throw new MeridianError('UNKNOWN_REGION', `no region "${region}"; known: ${known}`);
  }
  const u = new URL(r.edge);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
}

/** One edge in one process: data plane, admin port, report collector. */
export class Edge {
  readonly runtime: EdgeRuntime;
  /** Runs every request; a listener the edge does not own (an HTTP/2 one) hands its exchanges to serve(). */
  readonly pipeline: Pipeline;
  private readonly server: Server;
  /** Plain HTTP: simple requests skip Node's HTTP server (src/edge/inbound-fast). */
  private readonly fast: FastListener | null;
  /** HTTP/2 (src/edge/inbound-h2): h2c from the fast path, h2 by ALPN from the TLS server. */
  private readonly h2: H2Listener | null;
  private admin: AdminServer | null = null;
  private readonly collector: ReportCollector;
  address: HostPort | null = null;
  adminAddress: HostPort | null = null;

  constructor(private readonly o: EdgeOptions) {
    defaultListen(o.config, o.region); // validates the region
    this.runtime = new EdgeRuntime({
      config: o.config,
      region: o.region,
      source: o.source,
      geo: o.geo,
      log: o.log,
      accessLog:
        o.accessLog === undefined
          ? o.config.edge.accessLog
            ? o.log.child({ access: true })
            : null
          : o.accessLog,
      scheme: o.config.edge.tls ? 'https' : 'http',
    });
    const rt = this.runtime;
    this.pipeline = new Pipeline(rt);
    const handle = this.pipeline.serve;
    this.server = createDataServer({
      edge: o.config.edge,
      region: o.region,
      handle,
      // WebSocket and other Upgrades: the same pipeline, which picks the tunnel endpoint (src/edge/tunnel).
      upgrade: handle,
      rejected: (status) => rt.stats.countRequest('-', rt.region, status, 'rejected', 0),
    });
    const e = o.config.edge;
    const h2 = e.http2.enabled
      ? new H2Listener({
          http2: e.http2,
          region: o.region,
          maxHeaderSize: e.maxHeaderSize,
          headersTimeout: e.timeouts.clientHeaders,
          streamIdleTimeout: e.timeouts.idle,
          counts: rt.stats.http2,
          handle,
        })
      : null;
    this.h2 = h2;
    if (h2 && e.tls) h2.routeTls(this.server as unknown as import('node:tls').Server);
    this.fast = e.tls
      ? null
      : new FastListener(this.server, {
          maxHeaderSize: e.maxHeaderSize,
          headersTimeout: e.timeouts.clientHeaders,
          keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
          idleTimeout: e.timeouts.idle,
          maxConnections: e.maxConnections,
          maxRequestsPerConnection: e.maxRequestsPerConnection,
          handle,
          h2: h2 ? (socket) => h2.accept(socket) : undefined,
        });
    this.collector = new ReportCollector(
      o.region,
      () => this.runtime.snapshot.regions.get(o.region)?.capacity ?? 0,
    );
  }

  async start(): Promise<{ listen: string | null; admin: string | null }> {
    this.runtime.start();
    if (this.o.listen !== false) {
      const at = parseHostPort(this.o.listen ?? defaultListen(this.o.config, this.o.region), '--listen');
      const listening = this.fast?.server ?? this.server;
      listening.on('drop', () => this.runtime.stats.connectionsRefused++);
      this.address = await listen(listening, at, (e) =>
        this.o.log.warn({ err: e.message }, 'listener error'),
      );
    }
    if (this.o.admin !== false) {
      const rt = this.runtime;
      this.admin = new AdminServer(
        {
          region: this.o.region,
          stats: async () => rt.statsSnapshot(),
          health: async () => rt.healthDocument(),
          ready: async () => rt.readiness(),
          fault: () => rt.faultSettings,
          setFault: async (f: FaultSettings) => rt.setFault(f),
        },
        this.o.log,
        adminAccess(this.o.config.edge.admin, (m) => this.o.log.warn(m)),
      );
      this.adminAddress = await this.admin.listen(
        parseHostPort(this.o.admin ?? this.o.config.edge.admin.listen, '--admin'),
      );
    }
    await this.firstRounds(3000);
    return {
      listen: this.address ? formatHostPort(this.address) : null,
      admin: this.adminAddress ? formatHostPort(this.adminAddress) : null,
    };
  }

  /**
   * One request through the pipeline without a client socket (hono's
   * app.request()): `url` is a path, or an absolute URL whose host becomes
   * the Host header. Origins and peer edges are still reached over the network.
   */
  request(url: string, init: InProcessRequest = {}): Promise<EdgeResponse> {
    const absolute = /^https?:\/\//i.test(url);
    const u = absolute ? new URL(url) : null;
    const target = u === null ? url : `${u.pathname}${u.search}`;
    const x = new InProcessExchange(target, u?.host ?? 'localhost', init);
    this.pipeline.serve(x);
    return x.response;
  }

  /** The report control receives every second (see src/feed/report.ts). */
  collect(): EdgeReport {
    return this.collector.collect(this.runtime.statsSnapshot());
  }

  get url(): string {
    const a = this.address!;
    return `${this.runtime.scheme}://${formatHostPort(a)}`;
  }

  /**
   * Re-reads the TLS certificate and key (their paths stay as started: a new
   * path needs a restart). Throws when they cannot be read or do not match.
   */
  reloadTls(tls: { cert: string; key: string } | undefined): void {
    const running = this.o.config.edge.tls;
    if (!running || !tls) return;
    const server = this.server as unknown as import('node:tls').Server;
    try {
      server.setSecureContext({ cert: readFileSync(running.cert), key: readFileSync(running.key) });
    } catch (e) {
      throw new MeridianError('CONFIG_UNREADABLE', `edge.tls: ${(e as Error).message}`);
    }
  }

  /** Waits (at most `ms`) for the first origin checks and peer probes, so the ready line rarely precedes them. */
  private async firstRounds(ms: number): Promise<void> {
    const until = performance.now() + ms;
    const pending = () => (this.runtime.readiness().waitingFor ?? []).some((w) => w !== 'first snapshot');
    while (pending() && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  /**
   * SIGTERM: not ready, no new connections, idle keep-alive connections
   * closed, `Connection: close` on every answer; requests in flight have
   * `timeoutMs` to finish, then every connection is closed. The admin port
   * stays up (reporting not ready) until close().
   */
  async drain(timeoutMs: number): Promise<void> {
    const rt = this.runtime;
    rt.startDrain();
    this.fast?.drain();
    this.h2?.drain();
    if (this.server.listening) this.server.close();
    const until = performance.now() + timeoutMs;
    for (;;) {
      this.server.closeIdleConnections();
      if (rt.stats.inFlight <= 0 && rt.tunnels.size === 0) break;
      if (performance.now() >= until) {
        this.o.log.warn(
          { inFlight: rt.stats.inFlight, tunnels: rt.tunnels.size, timeoutMs },
          'drain timeout: closing requests in flight',
        );
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    this.server.closeAllConnections();
    this.h2?.close();
    await this.fast?.close();
  }

  async close(): Promise<void> {
    this.h2?.close();
    await Promise.all([closeServer(this.server), this.fast?.close(), this.admin?.close()]);
    await this.runtime.close();
  }
}
