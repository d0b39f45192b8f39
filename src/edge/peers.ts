import type { MeridianConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import type { Logger } from '../log.js';
import { requestPool } from './origins/origin.js';
import type { H1Pool } from './upstream/pool.js';
import { probe } from './upstream/probe.js';

export interface Peer {
  region: string;
  url: string;
  /** Proxied requests and probes. */
  upstream: H1Pool;
  /** Whether its /meridian/health answered at the last probe. */
  reachable: boolean;
  /** When a probe last succeeded (ms epoch); 0 before the first success. */
  okAt: number;
}

/**
 * Other regions' edges: where misrouted requests and cross-region retries go.
 * Probed every `interval` (GET /meridian/health) so an unreachable or
 * partitioned region is never a target.
 */
export class Peers {
  readonly byRegion = new Map<string, Peer>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Peers whose first answer is in: one success, or two failures (one may be a slow start). */
  private readonly probed = new Set<string>();
  private readonly firstFailures = new Set<string>();

  constructor(
    config: MeridianConfig,
    self: string,
    private readonly log: Logger,
  ) {
    const e = config.edge;
    for (const r of config.regions) {
      if (r.id === self) continue;
      const options = {
        connections: e.connectionsPerOrigin,
        connectTimeout: e.timeouts.connect,
        headersTimeout: e.timeouts.headers,
        idleTimeout: e.timeouts.idle,
      };
      const upstream = requestPool(r.edge, options);
      // Reachable until a probe says otherwise, so a fresh edge can fail over at once.
      this.byRegion.set(r.id, { region: r.id, url: r.edge, upstream, reachable: true, okAt: 0 });
    }
  }

  /**
   * Probes each peer every `intervalMs`; an unreachable one four times as
   * often (like Envoy's unhealthy_interval), so a peer that was merely late
   * to start is a failover target again within a fraction of the interval.
   */
  start(intervalMs: number): void {
    const timeoutMs = Math.min(intervalMs, 1000);
    const loop = (p: Peer) => {
      void this.probe(p, timeoutMs).then(() => {
        if (this.closed) return;
        const delay = p.reachable ? intervalMs : Math.max(50, intervalMs / 4);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          loop(p);
        }, delay);
        timer.unref();
        this.timers.add(timer);
      });
    };
    for (const p of this.byRegion.values()) loop(p);
  }

  private async probe(p: Peer, timeoutMs: number): Promise<void> {
    const ok = (await probe(p.upstream, '/meridian/health', timeoutMs)) === 200;
    if (ok) p.okAt = Date.now();
    if (ok || this.firstFailures.has(p.region)) this.probed.add(p.region);
    else this.firstFailures.add(p.region);
    if (this.closed || ok === p.reachable) return;
    p.reachable = ok;
    this.log.warn({ peer: p.region, reachable: ok }, 'peer edge reachability changed');
  }

  /**
   * A peer that may take traffic: reachable, and neither DOWN nor PARTITIONED in the snapshot
   * (UNKNOWN is usable: control has not heard from it yet, which says nothing against it).
   */
  usable(region: string, snapshot: Snapshot): Peer | null {
    const p = this.byRegion.get(region);
    if (!p?.reachable) return null;
    const health = snapshot.regions.get(region)?.health;
    if (health === 'DOWN' || health === 'PARTITIONED') return null;
    return p;
  }

  /** True once every peer has been probed at least once (readiness). */
  get firstRoundDone(): boolean {
    return this.probed.size >= this.byRegion.size;
  }

  reachability(): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const p of this.byRegion.values()) out[p.region] = p.reachable;
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const p of this.byRegion.values()) p.upstream.close();
  }
}
