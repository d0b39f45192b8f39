import type { MeridianConfig } from '../config/index.js';
import { readSecret } from '../config/secret.js';
import type { Snapshot } from '../core/model.js';
import type { SnapshotSource } from '../feed/source.js';
import { type GeoLocator, trustedProxies } from '../geo/index.js';
import type { Logger } from '../log.js';
import type { ClientExchange } from './exchange/client-exchange.js';
import { type FaultSettings, isFaultActive, NO_FAULT } from './fault.js';
import { ClientLocator } from './locate.js';
import { HealthChecker } from './origins/health-check.js';
import { PeerAuth } from './peer-auth.js';
import { Peers } from './peers.js';
import { RetryBudget } from './retry-budget.js';
import { type ServiceRuntime, servicesByHost } from './service-runtime.js';
import { EdgeStats, type StatsSnapshot } from './stats.js';
import { TunnelRegistry } from './tunnel/registry.js';

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

/**
 * Everything one edge process serves with: the pipeline's shared state and
 * its lifecycle (start, reload, drain, close). It runs no request itself:
 * pipeline.ts does, and each stage takes what it needs from here.
 */
export class EdgeRuntime {
  readonly region: string;
  /** Swapped whole on reload (applyConfig); read it per request, never keep a part of it. */
  config: MeridianConfig;
  services: Map<string, ServiceRuntime>;
  readonly locator: ClientLocator;
  readonly peers: Peers;
  readonly budget: RetryBudget;
  readonly stats = new EdgeStats();
  /** Open WebSocket (Upgrade) tunnels, their evacuation watch and drain: src/edge/tunnel. */
  readonly tunnels = new TunnelRegistry(this);
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
  /** A shutdown began: not ready, every answer closes its connection. */
  draining = false;
  private becameReady = false;
  /** Responses not yet finished, so a drain can mark them `Connection: close`. */
  private readonly open = new Set<ClientExchange>();
  private readonly blackholed = new Set<ClientExchange>();
  private checkers: HealthChecker[] = [];
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
    this.unsubscribe = this.o.source.onChange((s, config) => {
      this.snapshot = s;
      if (config !== this.config) this.applyConfig(config);
    });
    this.checkers = this.startChecks(this.services);
    this.peers.start(this.config.edge.peerProbeInterval);
    this.tunnels.start();
  }

  private startChecks(services: Map<string, ServiceRuntime>): HealthChecker[] {
    const checkers: HealthChecker[] = [];
    for (const s of services.values()) {
      if (s.origins === null) continue;
      const checker = new HealthChecker(s.origins.origins, s.config.healthCheck, this.log);
      checker.start();
      checkers.push(checker);
    }
    return checkers;
  }

  /**
   * A reloaded config (SIGHUP, or the file changed): services, origins and
   * their checks, limits, retry and shedding settings take effect for the
   * next request. Requests in flight finish on the origins they started on;
   * the old origin pools are closed once those have had time to finish.
   * Listen addresses, TLS, peers and workers need a restart (see run.ts).
   */
  applyConfig(config: MeridianConfig): void {
    const services = servicesByHost(config, this.region);
    const checkers = this.startChecks(services);
    const old = { services: this.services, checkers: this.checkers };
    this.config = config;
    this.services = services;
    this.checkers = checkers;
    for (const reg of config.regions) this.edgeUrls.set(reg.id, reg.edge);
    for (const c of old.checkers) c.close();
    const grace = setTimeout(
      () => void Promise.all([...old.services.values()].map((s) => s.origins?.close())),
      Math.min(config.edge.timeouts.clientRequest || 300_000, 300_000),
    );
    grace.unref();
  }

  /** /meridian/ready: what the edge still waits for before it serves every client correctly. */
  readiness(): { ready: boolean; waitingFor?: string[]; draining?: boolean } {
    if (this.draining) return { ready: false, draining: true };
    if (this.becameReady) return { ready: true };
    const waitingFor: string[] = [];
    if (this.o.source.sync?.().status === 'unsynced') waitingFor.push('first snapshot');
    if (!this.checkers.every((c) => c.firstRoundDone)) waitingFor.push('first origin checks');
    if (!this.peers.firstRoundDone) waitingFor.push('first peer probes');
    if (waitingFor.length > 0) return { ready: false, waitingFor };
    this.becameReady = true;
    return { ready: true };
  }

  /** The first snapshot, origin checks and peer probes are in (a drain does not change it). */
  get started(): boolean {
    return this.becameReady || this.readiness().ready;
  }

  /** From now on every answer closes its connection; answers not yet begun too. */
  startDrain(): void {
    this.draining = true;
    // A black-holed request is never answered: waiting for it would only spend the drain timeout.
    this.releaseBlackholed();
    for (const x of this.open) if (!x.headersSent) x.closeAfterResponse();
    this.tunnels.drain();
  }

  /** A request began (pipeline.ts): while draining, its answer closes its connection. */
  opened(x: ClientExchange): void {
    if (this.draining) x.closeAfterResponse();
    this.open.add(x);
  }

  closed(x: ClientExchange): void {
    this.open.delete(x);
    this.blackholed.delete(x);
  }

  setFault(f: FaultSettings): void {
    this.faultSettings = f;
    this.faultActive = isFaultActive(f);
    if (!f.blackhole) this.releaseBlackholed();
    this.log.warn({ fault: f }, this.faultActive ? 'fault stage enabled' : 'fault stage off');
  }

  /** A black-holed request is never answered; it is cut off when the fault ends (or the client leaves). */
  holdBlackholed(x: ClientExchange): void {
    this.blackholed.add(x);
  }

  private releaseBlackholed(): void {
    for (const x of this.blackholed) x.destroy();
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
      tunnels: this.tunnels.stats.snapshot(),
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
    this.draining = true;
    for (const c of this.checkers) c.close();
    this.releaseBlackholed();
    this.tunnels.close();
    await this.peers.close();
    await Promise.all([...this.services.values()].map((s) => s.origins?.close()));
  }
}
