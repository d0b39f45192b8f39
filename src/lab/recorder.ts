// What the virtual users saw, per second and per phase: the raw material of
// the live line, the charts and the summary.
import type { RequestKind } from '../chaos/drills/types.js';

export interface RequestRecord {
  /** ms since the scenario started. */
  t: number;
  method: string;
  kind: RequestKind;
  /** 0 when no HTTP answer came (connection refused, timeout). */
  status: number;
  /** Region whose origin served the request (from the response), '' when none did. */
  servedRegion: string;
  /** Version of the origin that answered, success or not (x-lab-version); '' or absent when none said. */
  servedVersion?: string;
  /** Region DNS sent the user to (whose edge was called). */
  edgeRegion: string;
  latencyMs: number;
  shed: boolean;
  /** The user's home region (territory). */
  home: string;
  /** The user's cohort ('' when users are not split). */
  cohort: string;
  /** Tries the client made (addresses, retries). */
  tries?: number;
  /** Why no HTTP answer came ("connect failed", "timeout", ...). */
  reason?: string;
}

/** A failed request as the user saw it: when (ms since start), what kind, whose. */
export interface FailedRequest {
  at: number;
  kind: RequestKind;
  cohort: string;
}

export interface CohortCounts {
  requests: number;
  failedByKind: Record<RequestKind, number>;
  /** Successful requests in the steady phases, and of them those that went outside the user's home region (edge or origin). */
  steadyOk: number;
  steadyOutsideHome: number;
  /** Latencies of the successful steady-state requests: what the policy costs when nothing fails. */
  steadyLatencies: number[];
}

export interface LabEvent {
  t: number;
  label: string;
}

export interface Bucket {
  second: number;
  phase: string;
  total: number;
  ok: number;
  /** Shed requests included. */
  failed: number;
  shed: number;
  byRegion: Map<string, number>;
  latencies: number[];
  /** Latencies of successful requests by the users' home region. */
  latenciesByHome: Map<string, number[]>;
  /** Answers per region by the version of the origin that gave them (success or not). */
  versions: Map<string, Map<string, number>>;
}

/** The users' requests over whole seconds [fromSecond, toSecond) (Recorder.window). */
export interface UsersWindow {
  fromSecond: number;
  toSecond: number;
  requests: number;
  failed: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** Phases in which nothing is wrong: what "steady state" measures. */
export const STEADY_PHASES: ReadonlySet<string> = new Set(['before', 'steady']);

const byKind = (): Record<RequestKind, number> => ({ idempotent: 0, postWithKey: 0, post: 0 });

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export class Recorder {
  readonly buckets: Bucket[] = [];
  readonly events: LabEvent[] = [];
  /** `failed` and `failedIdempotent` count shed requests too: to the user a shed request failed. */
  readonly totals = { total: 0, ok: 0, failed: 0, failedIdempotent: 0, shed: 0 };
  readonly failedByKind = byKind();
  readonly requestsByKind = byKind();
  /** Every failed request (shed included), in the order they were recorded. */
  readonly failed: FailedRequest[] = [];
  /** Home region -> phase -> latencies of successful requests. */
  readonly territories = new Map<string, Map<string, number[]>>();
  readonly cohorts = new Map<string, CohortCounts>();
  /** Requests that took more than one try (another address, a retry). */
  multiTry = 0;
  /** Failed requests by what the user saw: "HTTP 502", "no answer", "no DNS answer". */
  readonly failures = new Map<string, number>();
  /** Per phase: requests served by each region, and all latencies. */
  readonly phases = new Map<
    string,
    {
      byRegion: Map<string, number>;
      latencies: number[];
      failed: number;
      total: number;
      /** Requests a client or the edge may send again (idempotent, POST with a key), and those that failed. */
      retryable: number;
      retryableFailed: number;
    }
  >();
  /** Requests that reached each region's edge, per second: where DNS sent users. */
  readonly edgeBySecond: Map<string, number>[] = [];
  phase = 'start';

  constructor(readonly regions: readonly string[]) {}

  setPhase(phase: string, t: number): void {
    this.phase = phase;
    this.event(t, phase);
  }

  event(t: number, label: string): void {
    this.events.push({ t, label });
  }

  private bucket(second: number): Bucket {
    while (this.buckets.length <= second) {
      this.buckets.push({
        second: this.buckets.length,
        phase: this.phase,
        total: 0,
        ok: 0,
        failed: 0,
        shed: 0,
        byRegion: new Map(this.regions.map((r) => [r, 0])),
        latencies: [],
        latenciesByHome: new Map(),
        versions: new Map(),
      });
      this.edgeBySecond.push(new Map());
    }
    return this.buckets[second];
  }

  add(r: RequestRecord): void {
    const second = Math.max(0, Math.floor(r.t / 1000));
    const b = this.bucket(second);
    let phase = this.phases.get(b.phase);
    if (!phase) {
      phase = { byRegion: new Map(), latencies: [], failed: 0, total: 0, retryable: 0, retryableFailed: 0 };
      this.phases.set(b.phase, phase);
    }
    const cohort = this.cohort(r.cohort);
    b.total++;
    phase.total++;
    const retryable = r.kind !== 'post';
    if (retryable) phase.retryable++;
    cohort.requests++;
    this.totals.total++;
    this.requestsByKind[r.kind]++;
    if ((r.tries ?? 1) > 1) this.multiTry++;
    if (r.servedRegion && r.servedVersion) {
      const byVersion = b.versions.get(r.servedRegion) ?? new Map<string, number>();
      b.versions.set(r.servedRegion, byVersion);
      byVersion.set(r.servedVersion, (byVersion.get(r.servedVersion) ?? 0) + 1);
    }
    const ok = r.status >= 200 && r.status < 400;
    if (ok) {
      b.ok++;
      this.totals.ok++;
      b.byRegion.set(r.servedRegion, (b.byRegion.get(r.servedRegion) ?? 0) + 1);
      phase.byRegion.set(r.servedRegion, (phase.byRegion.get(r.servedRegion) ?? 0) + 1);
      b.latencies.push(r.latencyMs);
      phase.latencies.push(r.latencyMs);
      push(b.latenciesByHome, r.home, r.latencyMs);
      const territory = this.territories.get(r.home) ?? new Map<string, number[]>();
      this.territories.set(r.home, territory);
      push(territory, b.phase, r.latencyMs);
      if (STEADY_PHASES.has(b.phase)) {
        cohort.steadyOk++;
        cohort.steadyLatencies.push(r.latencyMs);
        // Outside home: through another region's edge (a front door far away, even when that edge
        // bridges back to the home origins) or served by another region's origins.
        const away = (region: string) => region !== '' && region !== r.home;
        if (away(r.edgeRegion) || away(r.servedRegion)) cohort.steadyOutsideHome++;
      }
    } else {
      b.failed++;
      phase.failed++;
      if (retryable) phase.retryableFailed++;
      this.totals.failed++;
      if (r.kind === 'idempotent') this.totals.failedIdempotent++;
      this.failedByKind[r.kind]++;
      cohort.failedByKind[r.kind]++;
      this.failed.push({ at: r.t + r.latencyMs, kind: r.kind, cohort: r.cohort });
      if (r.shed) {
        b.shed++;
        this.totals.shed++;
      }
      const kind = r.shed
        ? 'shed (HTTP 503)'
        : r.status > 0
          ? `HTTP ${r.status}`
          : r.edgeRegion
            ? `no answer${r.reason ? `: ${r.reason}` : ''}`
            : 'no DNS answer';
      this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
    }
    const edges = this.edgeBySecond[second];
    edges.set(r.edgeRegion, (edges.get(r.edgeRegion) ?? 0) + 1);
  }

  private cohort(name: string): CohortCounts {
    const c = this.cohorts.get(name) ?? {
      requests: 0,
      failedByKind: byKind(),
      steadyOk: 0,
      steadyOutsideHome: 0,
      steadyLatencies: [],
    };
    this.cohorts.set(name, c);
    return c;
  }

  /** Share of successful requests each region served. */
  static shares(byRegion: ReadonlyMap<string, number>, regions: readonly string[]): Record<string, number> {
    const total = [...byRegion.values()].reduce((s, n) => s + n, 0);
    const out: Record<string, number> = {};
    for (const r of regions) out[r] = total === 0 ? 0 : round((byRegion.get(r) ?? 0) / total, 3);
    return out;
  }

  sharesByPhase(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [phase, p] of this.phases) out[phase] = Recorder.shares(p.byRegion, this.regions);
    return out;
  }

  /** The live line: last full second. */
  /**
   * The users' requests in the whole seconds from `fromSecond` up to the one in progress (not
   * included): how many, how many failed, and the p50/p99 of the successful ones. A soak asks
   * for each interval since its last look.
   */
  window(fromSecond: number): UsersWindow {
    const upTo = Math.max(0, this.buckets.length - 1);
    const done = this.buckets.slice(Math.max(0, fromSecond), upTo);
    const latencies = done.flatMap((b) => b.latencies);
    return {
      fromSecond,
      toSecond: upTo,
      requests: done.reduce((n, b) => n + b.total, 0),
      failed: done.reduce((n, b) => n + b.failed, 0),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  }

  line(): string {
    const b = this.buckets[this.buckets.length - 2] ?? this.buckets[this.buckets.length - 1];
    if (!b) return 'waiting for the first requests';
    const shares = Recorder.shares(b.byRegion, this.regions);
    const share = this.regions.map((r) => `${r} ${Math.round(shares[r] * 100)}%`).join(' ');
    const p99 = percentile(b.latencies, 99);
    return `t=${b.second}s ${b.phase.padEnd(9)} ${share}  ${b.total} req/s  failed ${b.failed} (shed ${b.shed})  p99 ${p99 === null ? '-' : Math.round(p99)} ms`;
  }
}

function push<K>(map: Map<K, number[]>, key: K, value: number) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
