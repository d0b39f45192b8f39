// What the virtual users saw, per second and per phase: the raw material of
// the live line, the charts and the summary.

export interface RequestRecord {
  /** ms since the scenario started. */
  t: number;
  method: string;
  /** 0 when no HTTP answer came (connection refused, timeout). */
  status: number;
  /** Region whose origin served the request (from the response), '' when none did. */
  servedRegion: string;
  /** Region DNS sent the user to (whose edge was called). */
  edgeRegion: string;
  latencyMs: number;
  shed: boolean;
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
  failed: number;
  shed: number;
  byRegion: Map<string, number>;
  latencies: number[];
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export class Recorder {
  readonly buckets: Bucket[] = [];
  readonly events: LabEvent[] = [];
  readonly totals = { total: 0, ok: 0, failed: 0, failedIdempotent: 0, shed: 0 };
  /** Failed requests by what the user saw: "HTTP 502", "no answer", "no DNS answer". */
  readonly failures = new Map<string, number>();
  /** Per phase: requests served by each region, and all latencies. */
  readonly phases = new Map<
    string,
    { byRegion: Map<string, number>; latencies: number[]; failed: number; total: number }
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
      phase = { byRegion: new Map(), latencies: [], failed: 0, total: 0 };
      this.phases.set(b.phase, phase);
    }
    b.total++;
    phase.total++;
    this.totals.total++;
    const ok = r.status >= 200 && r.status < 400;
    if (ok) {
      b.ok++;
      this.totals.ok++;
      b.byRegion.set(r.servedRegion, (b.byRegion.get(r.servedRegion) ?? 0) + 1);
      phase.byRegion.set(r.servedRegion, (phase.byRegion.get(r.servedRegion) ?? 0) + 1);
      b.latencies.push(r.latencyMs);
      phase.latencies.push(r.latencyMs);
    } else if (r.shed) {
      b.shed++;
      this.totals.shed++;
    } else {
      b.failed++;
      phase.failed++;
      const kind = r.status > 0 ? `HTTP ${r.status}` : r.edgeRegion ? 'no answer' : 'no DNS answer';
      this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
      this.totals.failed++;
      if (IDEMPOTENT.has(r.method)) this.totals.failedIdempotent++;
    }
    const edges = this.edgeBySecond[second];
    edges.set(r.edgeRegion, (edges.get(r.edgeRegion) ?? 0) + 1);
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
  line(): string {
    const b = this.buckets[this.buckets.length - 2] ?? this.buckets[this.buckets.length - 1];
    if (!b) return 'waiting for the first requests';
    const shares = Recorder.shares(b.byRegion, this.regions);
    const share = this.regions.map((r) => `${r} ${Math.round(shares[r] * 100)}%`).join(' ');
    const p99 = percentile(b.latencies, 99);
    return `t=${b.second}s ${b.phase.padEnd(9)} ${share}  ${b.total} req/s  errors ${b.failed}  shed ${b.shed}  p99 ${p99 === null ? '-' : Math.round(p99)} ms`;
  }
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
