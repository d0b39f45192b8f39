import type { Pool } from 'undici';
import type { MeridianConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import type { Logger } from '../log.js';
import { upstreamPool } from './origins/origin.js';

export interface Peer {
  region: string;
  url: string;
  pool: Pool;
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
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    config: MeridianConfig,
    self: string,
    private readonly log: Logger,
  ) {
    const e = config.edge;
    for (const r of config.regions) {
      if (r.id === self) continue;
      const pool = upstreamPool(r.edge, {
        connections: e.connectionsPerOrigin,
        connectTimeout: e.timeouts.connect,
        headersTimeout: e.timeouts.headers,
        idleTimeout: e.timeouts.idle,
      });
      // Reachable until a probe says otherwise, so a fresh edge can fail over at once.
      this.byRegion.set(r.id, { region: r.id, url: r.edge, pool, reachable: true, okAt: 0 });
    }
  }

  start(intervalMs: number): void {
    const probeAll = () => {
      for (const p of this.byRegion.values()) void this.probe(p, Math.min(intervalMs, 1000));
    };
    this.timer = setInterval(probeAll, intervalMs);
    this.timer.unref();
    probeAll();
  }

  private async probe(p: Peer, timeoutMs: number): Promise<void> {
    let ok = false;
    try {
      const res = await p.pool.request({
        path: '/meridian/health',
        method: 'GET',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body.dump();
      ok = res.statusCode === 200;
    } catch {
      ok = false;
    }
    if (ok) p.okAt = Date.now();
    if (this.closed || ok === p.reachable) return;
    p.reachable = ok;
    this.log.warn({ peer: p.region, reachable: ok }, 'peer edge reachability changed');
  }

  /** A peer that may take traffic: reachable, and neither DOWN nor PARTITIONED in the snapshot. */
  usable(region: string, snapshot: Snapshot): Peer | null {
    const p = this.byRegion.get(region);
    if (!p?.reachable) return null;
    const health = snapshot.regions.get(region)?.health;
    if (health === 'DOWN' || health === 'PARTITIONED') return null;
    return p;
  }

  reachability(): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const p of this.byRegion.values()) out[p.region] = p.reachable;
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all([...this.byRegion.values()].map((p) => p.pool.destroy().catch(() => {})));
  }
}
