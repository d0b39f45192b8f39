// One DNS server process: the engine, its UDP and TCP listeners, reloads from
// the snapshot source, and (unless a cluster primary serves it) the admin port.
import { MeridianError } from '../errors.js';
import { registerSyncMetrics, type SnapshotSource, type SnapshotSync } from '../feed/index.js';
import type { GeoLocator } from '../geo/index.js';
import type { Logger } from '../log.js';
import { type AdminServer, type Readiness, startAdmin } from './admin.js';
import { DEFAULT_DRAIN, type DrainBounds, newTraffic, waitUntilQuiet } from './drain.js';
import { DnsEngine } from './handler.js';
import { DnsMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import {
  formatHostPort,
  parseHostPort,
  serveTcp,
  serveUdp,
  type TcpServer,
  type UdpLoop,
  type UdpServer,
} from './sockets.js';

export interface DnsServerOptions {
  source: SnapshotSource;
  geo: GeoLocator;
  log: Logger;
  /** ADDR:PORT to serve on, UDP and TCP; default: config dns.listen. */
  listen?: string[];
  /** ADDR:PORT of the admin HTTP server; null for none; default: config dns.admin. */
  admin?: string | null;
  /** Processes sharing the listen sockets (cluster workers): each rate-limits to its share. Default 1. */
  workers?: number;
  /** How long a shutdown keeps answering what was queued (drain.ts); default DEFAULT_DRAIN. */
  drain?: DrainBounds;
}

export interface DnsServer {
  engine: DnsEngine;
  metrics: DnsMetrics;
  udp: string[];
  tcp: string[];
  admin: string | null;
  /** True when UDP is received in batches by the native addon. */
  batched: boolean;
  /** Which UDP loop serves, and why (sockets.ts). */
  loop: UdpLoop;
  loopWhy: string;
  health(): DnsHealth;
  /** /meridian/ready: sockets bound (always, once started) and a first snapshot (control's, or the config's without control). */
  readiness(): Readiness;
  /**
   * A shutdown began: reports not-ready from now on, takes no new TCP connections, answers
   * the queries already sent (until no query came for a quiet period, at most a maximum
   * time), then ends the TCP connections once their queries are answered. Then call close().
   */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface DnsHealth {
  part: 'dns';
  state: 'serving';
  zone: string;
  snapshot: number;
  /** With control: synced, static (control's last snapshot, control unreachable) or unsynced (config's dials). */
  sync?: SnapshotSync;
  regions: { id: string; health: string; dial: number }[];
}

function hostPortOrThrow(text: string, what: string) {
  const hp = parseHostPort(text);
  if (!hp)
    throw new MeridianError(
      'BAD_ARGUMENT',
      `${what}: expected ADDRESS:PORT such as 127.0.0.1:5353, got "${text}"`,
    );
  return hp;
}

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const { source, geo, log } = options;
  const config = source.config();
  const metrics = new DnsMetrics();
  if (source.sync) registerSyncMetrics(metrics.registry, () => source.sync?.());
  const rateLimiter = config.dns.rateLimit.enabled
    ? new RateLimiter(config.dns.rateLimit, { workers: options.workers })
    : undefined;
  const engine = new DnsEngine({ geo, config, snapshot: source.current(), metrics, rateLimiter });
  const unsubscribe = source.onChange((snapshot, cfg) => {
    try {
      engine.load(cfg, snapshot);
      metrics.reloads.inc();
      log.info({ version: snapshot.version }, 'serving new snapshot');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'new zone rejected; serving the previous one');
    }
  });

  const traffic = newTraffic();
  const udpServers: UdpServer[] = [];
  const tcpServers: TcpServer[] = [];
  const udp: string[] = [];
  const tcp: string[] = [];
  const tcpOptions = {
    idleTimeoutMs: config.dns.tcpIdleTimeout,
    maxConnections: config.dns.maxTcpConnections,
  };
  let admin: AdminServer | null = null;
  let draining = false;
  const readiness = (): Readiness => {
    if (draining) return { ready: false, draining: true };
    // With control, the config's dials are not a snapshot: wait for control's (or the one kept on disk).
    if (source.sync?.().status === 'unsynced') return { ready: false, waitingFor: ['first snapshot'] };
    return { ready: true };
  };
  const closeAll = async () => {
    unsubscribe();
    rateLimiter?.close();
    for (const u of udpServers) await u.close();
    for (const t of tcpServers) await t.close();
    await admin?.close();
  };
  try {
    for (const text of options.listen ?? config.dns.listen) {
      const at = hostPortOrThrow(text, '--listen');
      // Port 0: UDP picks the port, TCP takes the same one; when that TCP port
      // is already taken, both try again on another.
      for (let attempt = 1; ; attempt++) {
        const udpServer = await serveUdp(engine, at, log, { workers: options.workers ?? 1, traffic });
        const port = udpServer.port;
        let tcpServer: TcpServer;
        try {
          tcpServer = await serveTcp(engine, { host: at.host, port }, tcpOptions, log, traffic);
        } catch (e) {
          await udpServer.close();
          if (at.port === 0 && (e as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 10) continue;
          throw e;
        }
        udpServers.push(udpServer);
        tcpServers.push(tcpServer);
        udp.push(formatHostPort(at.host, port));
        tcp.push(formatHostPort(at.host, port));
        break;
      }
    }
    const adminAt = options.admin === undefined ? config.dns.admin : options.admin;
    if (adminAt !== null) {
      admin = await startAdmin(hostPortOrThrow(adminAt, '--admin'), {
        metrics: () => metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
        health: () => health(),
        ready: readiness,
        onError: (e) => log.warn({ err: e.message }, 'admin listener error'),
      });
    }
  } catch (e) {
    await closeAll();
    if (e instanceof MeridianError) throw e;
    throw new MeridianError('LISTEN_FAILED', `cannot listen: ${(e as Error).message}`);
  }

  const health = (): DnsHealth => {
    const snap = engine.snapshot();
    return {
      part: 'dns',
      state: 'serving',
      zone: source.config().zone.name,
      snapshot: snap.version,
      ...(source.sync ? { sync: source.sync() } : {}),
      regions: [...snap.regions.values()].map((r) => ({ id: r.id, health: r.health, dial: r.dial })),
    };
  };
  // Every address is served by the same loop: the addon loads for all or for none.
  const loop: UdpLoop = udpServers[0]?.loop ?? 'dgram';
  const loopWhy = udpServers[0]?.why ?? 'no UDP address';
  log.info({ udp, loop, why: loopWhy }, `udp: ${loop} loop`);
  return {
    engine,
    metrics,
    udp,
    tcp,
    batched: loop === 'batched',
    loop,
    loopWhy,
    admin: admin?.address ?? null,
    health,
    readiness,
    drain: async () => {
      if (draining) return;
      draining = true;
      const bounds = options.drain ?? DEFAULT_DRAIN;
      const started = Date.now();
      const answeredBefore = traffic.answered;
      log.info(bounds, 'dns draining: answering the queries already sent');
      for (const t of tcpServers) t.stopAccepting();
      const deadline = started + bounds.maxMs;
      await waitUntilQuiet(() => traffic.received, bounds.quietMs, deadline);
      await Promise.all(tcpServers.map((t) => t.finish(deadline)));
      log.info({ answered: traffic.answered - answeredBefore, ms: Date.now() - started }, 'dns drained');
    },
    close: closeAll,
  };
}
