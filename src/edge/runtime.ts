import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { MeridianConfig } from '../config/index.js';
import { readSecret } from '../config/secret.js';
import type { Snapshot } from '../core/model.js';
import type { SnapshotSource } from '../feed/source.js';
import { type GeoLocator, trustedProxies } from '../geo/index.js';
import type { Logger } from '../log.js';
import { EdgeContext } from './context.js';
import { type FaultSettings, isFaultActive, NO_FAULT } from './fault.js';
import { ClientLocator } from './locate.js';
import { HealthChecker } from './origins/health-check.js';
import { finish } from './outbound/finish.js';
import { respondError } from './outbound/respond.js';
import { PeerAuth } from './peer-auth.js';
import { Peers } from './peers.js';
import { run } from './pipeline.js';
import { RetryBudget } from './retry-budget.js';
import { type ServiceRuntime, servicesByHost } from './service-runtime.js';
import { EdgeStats, type StatsSnapshot } from './stats.js';

export interface RuntimeOptions {
  config: MeridianConfig;
  region: string;
  source: SnapshotSource;
  geo: GeoLocator;
  log: Logger;
  /** Access log lines (one JSON line per request); null turns them off. */
  accessLog: Logger | null;
  scheme: 'http' | 'https';
}

/** Everything one edge process serves with: the pipeline's shared state. */
export class EdgeRuntime {
  readonly region: string;
  readonly config: MeridianConfig;
  readonly services: Map<string, ServiceRuntime>;
  readonly locator: ClientLocator;
  readonly peers: Peers;
  readonly budget: RetryBudget;
  readonly stats = new EdgeStats();
  readonly edgeUrls = new Map<string, string>();
  readonly priorityHeader: string;
  /** trust.header (lower case): where a trusted proxy states the client address. */
  readonly clientAddressHeader: string;
  readonly peerAuth: PeerAuth;
  readonly viaToken: string;
  readonly scheme: 'http' | 'https';
  readonly log: Logger;
  readonly accessLog: Logger | null;
  snapshot: Snapshot;
  faultSettings: FaultSettings = NO_FAULT;
  faultActive = false;
  private readonly blackholed = new Set<Socket>();
  private readonly checkers: HealthChecker[] = [];
  private unsubscribe: () => void = () => {};

  constructor(private readonly o: RuntimeOptions) {
    const { config, region } = o;
    this.region = region;
    this.config = config;
    this.log = o.log;
    this.accessLog = o.accessLog;
    this.scheme = o.scheme;
    this.services = servicesByHost(config, region);
    this.locator = new ClientLocator(o.geo, trustedProxies(config.trust.proxies, config.trust.header));
    this.peers = new Peers(config, region, o.log);
    const r = config.edge.retry;
    this.budget = new RetryBudget({
      percent: r.budgetPercent,
      windowMs: r.budgetWindow,
      minPerSecond: r.minPerSecond,
    });
    for (const reg of config.regions) this.edgeUrls.set(reg.id, reg.edge);
    this.priorityHeader = config.edge.shedding.priorityHeader;
    this.clientAddressHeader = config.trust.header;
    const peers = config.edge.peers;
    this.peerAuth = new PeerAuth(
      peers.key === undefined
        ? null
        : readSecret(peers.key, 'edge.peers.key', { warn: (m) => o.log.warn(m) }),
      peers.maxSkew,
    );
    if (!this.peerAuth.enabled && config.regions.length > 1) {
      o.log.warn(
        'edge.peers.key is not set: no x-meridian-* header is believed, so there is no cross-region retry or failover',
      );
    }
    this.viaToken = `1.1 meridian-${region}`;
    this.snapshot = o.source.current();
  }

  start(): void {
    this.unsubscribe = this.o.source.onChange((s) => {
      this.snapshot = s;
    });
    for (const s of this.services.values()) {
      if (s.origins === null) continue;
      const checker = new HealthChecker(s.origins.origins, s.config.healthCheck, this.log);
      checker.start();
      this.checkers.push(checker);
    }
    this.peers.start(this.config.edge.peerProbeInterval);
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = new EdgeContext(req, res, performance.now());
    this.stats.inFlight++;
    res.on('close', () => finish(ctx, this));
    try {
      run(ctx, this);
    } catch (e) {
      this.log.error({ err: e }, 'edge pipeline failed');
      ctx.outcome = 'failed';
      respondError(ctx, this, 'INTERNAL', 'internal error');
    }
  };

  /** Takes a cross-region retry from the budget, counting both outcomes. */
  takeRetry(): boolean {
    if (this.budget.tryRetry()) {
      this.stats.retries++;
      return true;
    }
    this.stats.retriesDenied++;
    return false;
  }

  setFault(f: FaultSettings): void {
    this.faultSettings = f;
    this.faultActive = isFaultActive(f);
    if (!f.blackhole) this.releaseBlackholed();
    this.log.warn({ fault: f }, this.faultActive ? 'fault stage enabled' : 'fault stage off');
  }

  /** A black-holed request is never answered; its connection is dropped when the fault ends. */
  holdBlackholed(socket: Socket): void {
    this.blackholed.add(socket);
    socket.once('close', () => this.blackholed.delete(socket));
  }

  private releaseBlackholed(): void {
    for (const s of this.blackholed) s.destroy();
    this.blackholed.clear();
  }

  originHealth(): StatsSnapshot['origins'] {
    const now = Date.now();
    return [...this.services.values()].flatMap((s) =>
      (s.origins?.origins ?? []).map((o) => ({
        service: s.name,
        region: this.region,
        url: o.url,
        healthy: o.up,
        ejected: o.isEjected(now),
        inFlight: o.inFlight,
      })),
    );
  }

  statsSnapshot(): StatsSnapshot {
    const limits: StatsSnapshot['limits'] = {};
    for (const s of this.services.values()) {
      limits[s.name] = { limit: s.limiter.limit, inFlight: s.limiter.inFlight };
    }
    return this.stats.snapshot({
      origins: this.originHealth(),
      peers: this.peers.reachability(),
      limits,
      retryBudgetLeft: this.budget.left(),
      sync: this.o.source.sync?.(),
    });
  }

  healthDocument() {
    const origins = this.originHealth();
    const up = origins.filter((o) => o.healthy && !o.ejected).length;
    return {
      region: this.region,
      state: origins.length === 0 || up === origins.length ? 'up' : up === 0 ? 'down' : 'degraded',
      snapshot: {
        version: this.snapshot.version,
        epoch: this.snapshot.epoch ?? 0,
        health: this.snapshot.regions.get(this.region)?.health,
        dial: this.snapshot.regions.get(this.region)?.dial,
      },
      // With control: synced, static (control's last snapshot) or unsynced (the config's dials).
      ...(this.o.source.sync ? { sync: this.o.source.sync() } : {}),
      origins: origins.map(({ service, url, healthy, ejected }) => ({ service, url, healthy, ejected })),
      peers: this.peers.reachability(),
      fault: this.faultActive ? this.faultSettings : null,
    };
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const c of this.checkers) c.close();
    this.releaseBlackholed();
    await this.peers.close();
    await Promise.all([...this.services.values()].map((s) => s.origins?.close()));
  }
}
