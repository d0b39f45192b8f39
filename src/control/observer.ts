import { request } from 'undici';
import type { MeridianConfig } from '../config/index.js';
import type { GateReading } from '../core/evacuation-plan.js';
import {
  type EdgeView,
  evaluateRegions,
  type HealthThresholds,
  type HealthTrack,
  unknownTrack,
} from '../core/region-health.js';
import { type EdgeReport, recordEntries } from '../feed/report.js';
import { type Logger, repeatedFailure } from '../log.js';
import { failOver } from './auto-restore.js';
import type { ControlMetrics } from './metrics.js';
import type { StateKeeper } from './state.js';

/**
 * What control sees: the edges' reports and its own witness probes. On the
 * leader it turns them into region health (DOWN sets the dial to 0 at once,
 * see failOver) and publishes load, demand and capacity in the snapshot.
 */
export class Observer {
  private readonly reports = new Map<string, { report: EdgeReport; receivedAt: number }>();
  private readonly witness = new Map<string, { at: number; reachable: boolean }>();
  private tracks = new Map<string, HealthTrack>();
  private timers: NodeJS.Timeout[] = [];
  private lastLoadPublish = 0;
  private probing = false;
  readonly thresholds: HealthThresholds;

  constructor(
    private readonly config: MeridianConfig,
    private readonly keeper: StateKeeper,
    private readonly metrics: ControlMetrics,
    private readonly log: Logger,
    private readonly isLeader: () => boolean,
  ) {
    const h = config.control.health;
    this.thresholds = {
      fallAfterMs: h.fallAfter,
      riseAfterMs: h.riseAfter,
      staleAfterMs: h.reportStaleAfter,
      degradedErrorRate: h.degradedErrorRate,
      degradedP99Ms: h.degradedP99,
    };
  }

  /**
   * Until then this instance has not had a full report window as leader: edges
   * that reported to the old leader have not reached it yet. It judges neither
   * health nor gates before then, so a takeover never reads "no recent report"
   * as a region gone bad (or a gate failed).
   */
  warmUntil = Date.now();

  start() {
    this.warmUntil = Date.now() + this.thresholds.staleAfterMs;
    const probe = setInterval(() => void this.probe(), this.config.control.health.probeInterval);
    const ticks = repeatedFailure(this.log, {
      failed: 'health tick failed; trying again every 250 ms',
      recovered: 'health ticks work again',
    });
    const tick = setInterval(
      () =>
        void this.tick(Date.now()).then(
          () => ticks.ok(),
          (e) => ticks.failed(e),
        ),
      250,
    );
    probe.unref();
    tick.unref();
    this.timers = [probe, tick];
  }

  stop() {
    for (const t of this.timers) clearInterval(t);
  }

  /** This instance just became leader: start again from the stored health after one report window. */
  lead(now: number) {
    this.warmUntil = Math.max(this.warmUntil, now + this.thresholds.staleAfterMs);
    this.tracks = new Map();
  }

  accept(report: EdgeReport, now: number) {
    this.reports.set(report.region, { report, receivedAt: now });
    this.metrics.reports.inc({ region: report.region });
  }

  /** Fresh gate readings per region, from their edges' reports. */
  readings(now: number): Map<string, GateReading> {
    const out = new Map<string, GateReading>();
    for (const [id, { report, receivedAt }] of this.reports) {
      if (now - receivedAt > this.thresholds.staleAfterMs) continue;
      out.set(id, {
        errorRate: report.errorRate,
        p99Ms: report.p99Ms,
        load: report.load,
        capacity: report.capacity,
        ...(report.replicationLagMs !== undefined ? { replicationLagMs: report.replicationLagMs } : {}),
      });
    }
    return out;
  }

  /** The edges' fresh reports, whole (relative health reads their origin error rates). */
  freshReports(now: number): Map<string, EdgeReport> {
    const out = new Map<string, EdgeReport>();
    for (const [id, { report, receivedAt }] of this.reports)
      if (now - receivedAt <= this.thresholds.staleAfterMs) out.set(id, report);
    return out;
  }

  healthTracks(): ReadonlyMap<string, HealthTrack> {
    return this.tracks;
  }

  private async probe() {
    if (this.probing) return;
    this.probing = true;
    const timeout = this.config.control.health.probeTimeout;
    try {
      await Promise.all(
        this.config.regions.map(async (r) => {
          let reachable = false;
          try {
            const res = await request(new URL('/meridian/health', r.edge), {
              headersTimeout: timeout,
              bodyTimeout: timeout,
              signal: AbortSignal.timeout(timeout),
            });
            await res.body.dump();
            reachable = true;
          } catch {
            reachable = false;
          }
          this.witness.set(r.id, { at: Date.now(), reachable });
          this.metrics.witness.set({ region: r.id }, reachable ? 1 : 0);
        }),
      );
    } finally {
      this.probing = false;
    }
  }

  /** One evaluation; exported for tests that drive time themselves. */
  async tick(now: number): Promise<void> {
    const reports = new Map<string, EdgeView>();
    for (const [id, { report, receivedAt }] of this.reports) {
      reports.set(id, {
        at: receivedAt,
        originsTotal: report.origins.length,
        originsHealthy: report.origins.filter((o) => o.healthy).length,
        errorRate: report.errorRate,
        p99Ms: report.p99Ms,
        peers: new Map(recordEntries(report.peers)),
      });
    }
    const ids = this.config.regions.map((r) => r.id);
    if (this.isLeader() && now < this.warmUntil) {
      this.tracks = new Map();
      return;
    }
    const seen = this.tracks.size > 0 ? this.tracks : this.tracksFromState(now);
    this.tracks = evaluateRegions(seen, ids, { reports, witness: this.witness }, now, this.thresholds);
    if (!this.isLeader()) return;
    const observed = this.observed(now);
    const publishLoad = now - this.lastLoadPublish >= 2000;
    const result = await this.changeState(now, (draft) => {
      const audit = [];
      let changed = false;
      for (const r of draft.snapshot.regions) {
        const track = this.tracks.get(r.id);
        if (track && track.health !== r.health) {
          const before = r.health;
          r.health = track.health;
          changed = true;
          let details: Record<string, unknown> = { from: before, to: track.health };
          if (track.health === 'DOWN')
            details = { ...details, ...failOver(draft, r, now, this.config.control.autoRestore.enabled) };
          audit.push({
            at: now,
            who: 'control',
            role: 'system',
            action: 'health',
            target: r.id,
            reason: track.why,
            details,
          });
        }
        const o = observed.get(r.id);
        if (o && publishLoad && materially(r, o)) {
          Object.assign(r, o);
          changed = true;
        }
      }
      draft.healthWhy = [...this.tracks].map(([id, t]) => [id, t.why]);
      return changed ? audit : null;
    });
    if (result && publishLoad) this.lastLoadPublish = now;
  }

  /**
   * A leader that cannot write (etcd without quorum in a partition) goes on judging from what it
   * still hears, and its tracks drift from what it could store. Once writes work again it starts
   * over as a new leader does, after one report window: a region must not go PARTITIONED on the
   * stale peer views of the first reports after a heal (a three-region split-brain did, for 5 s).
   */
  private changeState(now: number, fn: Parameters<StateKeeper['change']>[0]) {
    return this.keeper.change(fn).catch((err: unknown) => {
      this.lead(now);
      throw err;
    });
  }

  /**
   * The stored health is where evaluation starts, except for a region this process has never
   * heard from: a restarted control knows nothing of it yet, so it is UNKNOWN (DOWN stays DOWN:
   * only evidence brings a region back). A follower that takes over has the reports it received.
   */
  private tracksFromState(now: number): Map<string, HealthTrack> {
    const state = this.keeper.current();
    const why = new Map(state.healthWhy);
    return new Map(
      state.snapshot.regions.map((r) => [
        r.id,
        r.health !== 'DOWN' && !this.reports.has(r.id)
          ? unknownTrack(now)
          : { health: r.health, why: why.get(r.id) ?? 'stored', since: 0 },
      ]),
    );
  }

  /** Load, demand and capacity per region from fresh reports. */
  private observed(now: number) {
    const out = new Map<string, { load: number; demand: number; capacity: number }>();
    const demand = new Map<string, number>();
    for (const { report, receivedAt } of this.reports.values()) {
      if (now - receivedAt > this.thresholds.staleAfterMs) continue;
      for (const [home, rps] of recordEntries(report.demandByHome))
        demand.set(home, (demand.get(home) ?? 0) + rps);
    }
    for (const r of this.config.regions) {
      const seen = this.reports.get(r.id);
      const fresh = seen && now - seen.receivedAt <= this.thresholds.staleAfterMs ? seen.report : undefined;
      out.set(r.id, {
        load: round(fresh?.load ?? 0),
        demand: round(demand.get(r.id) ?? 0),
        capacity: fresh && fresh.capacity > 0 ? fresh.capacity : r.capacity,
      });
    }
    return out;
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
/** Small wobble in load is not worth a new snapshot version. */
function materially(
  r: { load: number; demand: number; capacity: number },
  o: { load: number; demand: number; capacity: number },
) {
  const differs = (a: number, b: number) => Math.abs(a - b) > Math.max(5, 0.1 * Math.max(a, b));
  return differs(r.load, o.load) || differs(r.demand, o.demand) || r.capacity !== o.capacity;
}
