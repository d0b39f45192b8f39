// Counters kept as plain numbers on the hot path (no label hashing per
// request); /metrics and the control report are rendered from a snapshot.
// Snapshots of several worker processes merge by addition.

import { mergeSync, type SnapshotSync } from '../feed/sync.js';
import { mergeTunnelStats, type TunnelStatsSnapshot } from './tunnel/stats.js';

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Upper bounds (ms) of latency buckets; the last bucket is open. */
export const LATENCY_BOUNDS = [
  0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 75, 100, 150, 250, 500, 750, 1000, 2500, 5000, 10_000,
];

export interface OriginHealth {
  service: string;
  region: string;
  url: string;
  healthy: boolean;
  ejected: boolean;
  inFlight: number;
}

export interface StatsSnapshot {
  /** "service|region|class|outcome" -> count. */
  requests: Record<string, number>;
  shed: Record<string, number>;
  retries: number;
  retriesDenied: number;
  /** Client connections closed on accept because maxConnections were open. */
  connectionsRefused: number;
  retryBudgetLeft: number;
  errors: number;
  /** Attempts at this region's own origins, and those that failed (5xx or no answer), retries included. */
  originAttempts: number;
  originErrors: number;
  /** Counts since start per latency bucket (LATENCY_BOUNDS plus one open bucket), each bucket on its own. */
  latency: number[];
  /** The same, for the attempts at this region's own origins: their latency without bridging to other regions. */
  originLatency: number[];
  /** Sum since start of the durations (ms) counted in `latency`. */
  latencySumMs: number;
  demandByHome: Record<string, number>;
  origins: OriginHealth[];
  peers: Record<string, boolean>;
  limits: Record<string, { limit: number; inFlight: number }>;
  inFlight: number;
  /** How far the snapshot served is in step with control (with control only). */
  sync?: SnapshotSync;
  /** WebSocket (Upgrade) tunnels: open, opened, closed. */
  tunnels?: TunnelStatsSnapshot;
  /** Inbound HTTP/2: sessions and streams opened, sessions closed for a limit or an attack, by reason. */
  http2?: Http2Counts;
}

export interface Http2Counts {
  sessions: number;
  streams: number;
  refused: Record<string, number>;
}

export class EdgeStats {
  private readonly requests = new Map<string, number>();
  readonly shed = new Map<string, number>();
  retries = 0;
  retriesDenied = 0;
  connectionsRefused = 0;
  errors = 0;
  originAttempts = 0;
  originErrors = 0;
  inFlight = 0;
  readonly latency = new Array<number>(LATENCY_BOUNDS.length + 1).fill(0);
  latencySumMs = 0;
  readonly originLatency = new Array<number>(LATENCY_BOUNDS.length + 1).fill(0);
  readonly demandByHome = new Map<string, number>();
  /** Bumped by the HTTP/2 listener (src/edge/inbound-h2). */
  readonly http2 = { sessions: 0, streams: 0, refused: new Map<string, number>() };
  private lastKey = '';
  private lastService = '';
  private lastRegion = '';
  private lastClass = '';
  private lastOutcome = '';

  countRequest(service: string, region: string, status: number, outcome: string, ms: number): void {
    const cls = status >= 100 && status < 600 ? STATUS_CLASSES[((status / 100) | 0) - 1] : '5xx';
    // The same service, region, class and outcome come again and again: reuse the last key.
    let key = this.lastKey;
    if (
      service !== this.lastService ||
      region !== this.lastRegion ||
      cls !== this.lastClass ||
      outcome !== this.lastOutcome
    ) {
      key = `${service}|${region}|${cls}|${outcome}`;
      this.lastKey = key;
      this.lastService = service;
      this.lastRegion = region;
      this.lastClass = cls;
      this.lastOutcome = outcome;
    }
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    this.latency[bucketOf(ms)]++;
    this.latencySumMs += ms;
    if (status >= 500) this.errors++;
  }

  /** An attempt at one of this region's own origins (retries included), before any retry elsewhere. */
  countOriginAttempt(status: number, ms: number): void {
    this.originAttempts++;
    if (status >= 500) this.originErrors++;
    this.originLatency[bucketOf(ms)]++;
  }

  countDemand(home: string): void {
    this.demandByHome.set(home, (this.demandByHome.get(home) ?? 0) + 1);
  }

  countShed(service: string): void {
    this.shed.set(service, (this.shed.get(service) ?? 0) + 1);
  }

  snapshot(
    extra: Pick<StatsSnapshot, 'origins' | 'peers' | 'limits' | 'retryBudgetLeft' | 'sync' | 'tunnels'>,
  ): StatsSnapshot {
    return {
      requests: Object.fromEntries(this.requests),
      shed: Object.fromEntries(this.shed),
      retries: this.retries,
      retriesDenied: this.retriesDenied,
      connectionsRefused: this.connectionsRefused,
      errors: this.errors,
      originAttempts: this.originAttempts,
      originErrors: this.originErrors,
      latency: [...this.latency],
      latencySumMs: this.latencySumMs,
      originLatency: [...this.originLatency],
      demandByHome: Object.fromEntries(this.demandByHome),
      inFlight: this.inFlight,
      http2: {
        sessions: this.http2.sessions,
        streams: this.http2.streams,
        refused: Object.fromEntries(this.http2.refused),
      },
      ...extra,
    };
  }
}

const addInto = (a: Record<string, number>, b: Record<string, number>) => {
  const out: Record<string, number> = Object.create(null);
  for (const [k, v] of Object.entries(a)) out[k] = v;
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
};

/** Several workers' snapshots as one: counts add, an origin is healthy when every worker says so. */
export function mergeStats(all: StatsSnapshot[]): StatsSnapshot {
  const [first, ...rest] = all;
  return rest.reduce<StatsSnapshot>((acc, s) => {
    const origins = acc.origins.map((o) => {
      const other = s.origins.find((x) => x.url === o.url && x.service === o.service);
      return other
        ? {
            ...o,
            healthy: o.healthy && other.healthy,
            ejected: o.ejected || other.ejected,
            inFlight: o.inFlight + other.inFlight,
          }
        : o;
    });
    const limits: StatsSnapshot['limits'] = { ...acc.limits };
    for (const [k, v] of Object.entries(s.limits)) {
      const a = limits[k];
      limits[k] = a ? { limit: a.limit + v.limit, inFlight: a.inFlight + v.inFlight } : v;
    }
    const peers: Record<string, boolean> = { ...acc.peers };
    for (const [k, v] of Object.entries(s.peers)) peers[k] = (peers[k] ?? false) || v;
    return {
      requests: addInto(acc.requests, s.requests),
      shed: addInto(acc.shed, s.shed),
      retries: acc.retries + s.retries,
      retriesDenied: acc.retriesDenied + s.retriesDenied,
      connectionsRefused: acc.connectionsRefused + s.connectionsRefused,
      retryBudgetLeft: acc.retryBudgetLeft + s.retryBudgetLeft,
      errors: acc.errors + s.errors,
      originAttempts: acc.originAttempts + s.originAttempts,
      originErrors: acc.originErrors + s.originErrors,
      latency: acc.latency.map((v, i) => v + (s.latency[i] ?? 0)),
      latencySumMs: acc.latencySumMs + s.latencySumMs,
      originLatency: (acc.originLatency ?? []).map((v, i) => v + (s.originLatency?.[i] ?? 0)),
      demandByHome: addInto(acc.demandByHome, s.demandByHome),
      origins,
      peers,
      limits,
      inFlight: acc.inFlight + s.inFlight,
      sync: mergeSync(acc.sync, s.sync),
      tunnels: mergeTunnelStats(acc.tunnels, s.tunnels),
      http2: mergeHttp2(acc.http2, s.http2),
    };
  }, first);
}

function mergeHttp2(a: Http2Counts | undefined, b: Http2Counts | undefined): Http2Counts | undefined {
  if (!a || !b) return a ?? b;
  return {
    sessions: a.sessions + b.sessions,
    streams: a.streams + b.streams,
    refused: addInto(a.refused, b.refused),
  };
}

function bucketOf(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS.length && ms > LATENCY_BOUNDS[i]) i++;
  return i;
}

/** The latency (ms) under which `q` of the counted requests finished, from bucket counts. */
export function quantileMs(buckets: readonly number[], q: number): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= q * total) return LATENCY_BOUNDS[i] ?? LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1] * 2;
  }
  return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1] * 2;
}
