import type { EdgeReport } from '../feed/report.js';
import { quantileMs, type StatsSnapshot } from './stats.js';

const sum = (r: Record<string, number>, pred: (key: string) => boolean = () => true) =>
  Object.entries(r).reduce((acc, [k, v]) => (pred(k) ? acc + v : acc), 0);

/**
 * Builds the EdgeReport control receives every second: rates over the time
 * since the previous report, from cumulative stats (one process or all workers).
 */
export class ReportCollector {
  private prev: StatsSnapshot | null = null;
  private prevAt = 0;

  constructor(
    private readonly region: string,
    private readonly capacity: () => number,
  ) {}

  collect(now: StatsSnapshot, at = Date.now()): EdgeReport {
    const prev = this.prev;
    const seconds = prev === null ? 1 : Math.max(0.001, (at - this.prevAt) / 1000);
    const delta = (f: (s: StatsSnapshot) => number) => (f(now) - (prev === null ? 0 : f(prev))) / seconds;
    const requests = delta((s) => sum(s.requests));
    const errors = delta((s) => s.errors);
    const originAttempts = delta((s) => s.originAttempts ?? 0);
    const originErrors = delta((s) => s.originErrors ?? 0);
    // Served here: every request whose serving region is this one.
    const local = delta((s) => sum(s.requests, (k) => k.split('|')[1] === this.region));
    const latency = now.latency.map((v, i) => v - (prev?.latency[i] ?? 0));
    const originLatency = (now.originLatency ?? []).map((v, i) => v - (prev?.originLatency?.[i] ?? 0));
    const demandByHome: Record<string, number> = {};
    for (const [home, v] of Object.entries(now.demandByHome)) {
      demandByHome[home] = Math.max(0, (v - (prev?.demandByHome[home] ?? 0)) / seconds);
    }
    this.prev = now;
    this.prevAt = at;
    return {
      region: this.region,
      at,
      origins: now.origins.map((o) => ({ url: o.url, healthy: o.healthy && !o.ejected })),
      requestsPerS: Math.max(0, requests),
      errorRate: requests > 0 ? Math.min(1, Math.max(0, errors / requests)) : 0,
      originRequestsPerS: Math.max(0, originAttempts),
      originErrorRate: originAttempts > 0 ? Math.min(1, Math.max(0, originErrors / originAttempts)) : 0,
      p99Ms: quantileMs(latency, 0.99),
      originP99Ms: quantileMs(originLatency, 0.99),
      load: Math.max(0, local),
      capacity: this.capacity(),
      demandByHome,
      peers: now.peers,
    };
  }
}
