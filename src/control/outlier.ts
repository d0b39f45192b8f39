import type { MeridianConfig } from '../config/index.js';
import {
  emptyOutlierState,
  nextOutlierMove,
  type OutlierMove,
  type OutlierMoveConfig,
  type OutlierNote,
} from '../core/outlier-moves.js';
import {
  initialRelativeState,
  judgeRelative,
  type RegionReading,
  type RelativeJudgement,
  type RelativeThresholds,
} from '../core/relative-health.js';
import type { EdgeReport } from '../feed/report.js';
import { type Logger, repeatedFailure } from '../log.js';
import type { Observer } from './observer.js';
import { currentDial } from './operation-plan.js';
import type { Operations } from './operations.js';
import {
  forgetOutlier,
  OUTLIER_ACTOR,
  outlierOf,
  recordDecision,
  settleEvacuations,
} from './outlier-record.js';
import type { StateKeeper } from './state.js';
import type { AuditEntry, ControlState } from './store/index.js';

/** What relative health judges from a report: the origins' error rate and volume when the edge sends them. */
export const readingOf = (r: EdgeReport): RegionReading => ({
  errorRate: r.originErrorRate ?? r.errorRate,
  p99Ms: r.originP99Ms ?? r.p99Ms,
  requestsPerS: r.originRequestsPerS ?? r.requestsPerS,
});

/** Regions the automatic restore after DOWN will bring back (a mark with dial 0 brings back nothing). */
const awaitingRestore = (state: ControlState) =>
  new Set((state.failedOver ?? []).filter((f) => f.dial > 0).map((f) => f.region));

/** How often edges report (src/feed/reporter.ts's default interval). */
const EDGE_REPORT_INTERVAL_MS = 1000;

/** A probe that found the region still worse doubles the next cool-down. */
const probesAfter = (move: OutlierMove, probes = 0) => {
  const n = probes + (move.kind === 'reevacuate' ? 1 : 0);
  return n > 0 ? { probes: n } : {};
};

/**
 * Relative health on the leader (every 250 ms): a region clearly worse than the healthy others is
 * evacuated through the usual operations and gates (automatic, reason `outlier: ...`), restored
 * stepwise once it recovers, and nothing moves while every region is bad alike (`global`).
 *
 * Recovery of an evacuated region: it is judged on the traffic its origins still get (a trickle
 * dial, other regions' retries) when that reaches minRequestsPerSecond; with less, control waits
 * probeAfter and then probes it: a restore to the first step only (restoreSteps[0], small), held
 * for fallAfter. Clearly worse there, it is evacuated again and the next cool-down doubled (at most
 * 16 x); otherwise it is judged on that traffic as above.
 */
export class OutlierControl {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private relative = initialRelativeState();
  private last: RelativeJudgement | null = null;
  /** Decisions not to move, recorded once per region and kind while they hold. */
  private noted = new Set<string>();
  /** Regions an operator took over: left alone until they are fine again. */
  private readonly handsOff = new Set<string>();
  /** A move that failed to start is not tried again for the region before this. */
  private readonly retryAt = new Map<string, number>();
  private readonly thresholds: RelativeThresholds;
  private readonly moves: OutlierMoveConfig;

  constructor(
    private readonly config: MeridianConfig,
    private readonly keeper: StateKeeper,
    private readonly observer: Observer,
    private readonly operations: Operations,
    private readonly log: Logger,
    private readonly isLeader: () => boolean,
    /** Regions another mechanism moves now and judges itself (a running rollout's wave): not moved here. */
    private readonly movedByOthers: (state: ControlState) => Iterable<string> = () => [],
  ) {
    const o = config.control.outlier;
    const g = config.control.gates;
    this.thresholds = {
      minRequestsPerSecond: o.minRequestsPerSecond,
      errorRateMargin: o.errorRateMargin,
      errorRateRatio: o.errorRateRatio,
      p99Ratio: o.p99Ratio,
      p99MarginMs: o.p99Margin,
      fallAfterMs: o.fallAfter,
      riseAfterMs: o.riseAfter,
      healthyErrorRate: g.errorRate,
      healthyP99Ms: g.p99,
    };
    this.moves = {
      steps: o.steps,
      restoreSteps: o.restoreSteps,
      margin: g.margin,
      maxAutoEvacuated: o.maxAutoEvacuated,
      probeAfterMs: o.probeAfter,
    };
  }

  get enabled() {
    return this.config.control.outlier.enabled;
  }

  start() {
    if (!this.enabled) return;
    const ticks = repeatedFailure(this.log, {
      failed: 'outlier tick failed; trying again every 250 ms',
      recovered: 'outlier ticks work again',
    });
    this.timer = setInterval(
      () =>
        void this.tick(Date.now()).then(
          () => ticks.ok(),
          (e) => ticks.failed(e),
        ),
      250,
    );
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  /** An operator set the region's dial: no automatic move of it until it is judged fine again. */
  leaveAlone(region: string) {
    this.handsOff.add(region);
  }

  /** What status shows: the stored record, plus this leader's current judgement of each region. */
  view() {
    const stored = this.keeper.current().outlier ?? emptyOutlierState();
    return {
      enabled: this.enabled,
      ...stored,
      regions: [...(this.last?.regions.values() ?? [])].map((j) => ({
        region: j.region,
        verdict: j.verdict,
        why: j.why,
        errorRate: j.reading?.errorRate ?? null,
        p99Ms: j.reading?.p99Ms ?? null,
        requestsPerS: j.reading?.requestsPerS ?? null,
      })),
    };
  }

  /** One look; exported for tests that drive time themselves. */
  async tick(now: number): Promise<void> {
    if (this.ticking) return;
    if (!this.isLeader() || now < this.observer.warmUntil) {
      this.relative = initialRelativeState();
      this.last = null;
      return;
    }
    this.ticking = true;
    try {
      await this.settle(now);
      const state = this.keeper.current();
      const outlier = state.outlier ?? emptyOutlierState();
      // A region still UNKNOWN (its first evidence is being confirmed) is not judged yet.
      const unknown = new Set(
        [...this.keeper.snapshot().regions.values()].filter((r) => r.health === 'UNKNOWN').map((r) => r.id),
      );
      const readings = new Map(
        [...this.observer.freshReports(now)]
          .filter(([id]) => !unknown.has(id))
          .map(([id, r]) => [id, readingOf(r)] as const),
      );
      const judgement = judgeRelative(
        this.relative,
        {
          regions: this.config.regions.map((r) => r.id),
          readings,
          evacuated: new Set(outlier.evacuated.map((e) => e.region)),
          now,
        },
        this.thresholds,
      );
      this.relative = judgement.state;
      this.last = judgement;
      for (const [id, j] of judgement.regions) if (j.verdict === 'fine') this.handsOff.delete(id);
      await this.followGlobal(judgement, now);
      const op = state.operation;
      const { move, notes } = nextOutlierMove(
        {
          judgement,
          leaveAlone: new Set([...this.handsOff, ...this.movedByOthers(state)]),
          snapshot: this.keeper.snapshot(),
          state: outlier,
          busy:
            op?.status === 'running'
              ? { region: op.region, id: op.id, ours: outlier.evacuated.some((e) => e.operation === op.id) }
              : null,
          failedOver: awaitingRestore(state),
          now,
        },
        this.moves,
      );
      await this.note(notes, now);
      if (move && (this.retryAt.get(move.region) ?? 0) <= now) await this.act(move, now);
    } finally {
      this.ticking = false;
    }
  }

  private async settle(now: number) {
    if (!this.keeper.current().outlier?.evacuated.length) return;
    const out: { settled: ReturnType<typeof settleEvacuations> } = { settled: null };
    await this.keeper.change((draft) => {
      out.settled = settleEvacuations(draft, now, this.moves.probeAfterMs);
      return out.settled === null ? null : [];
    });
    if (out.settled === null) return;
    const { taken, stopped } = out.settled;
    // An evacuation its gates stopped is not tried again before the cool-down: the same gates would stop it.
    for (const { region, message } of stopped) {
      this.retryAt.set(region, now + this.moves.probeAfterMs);
      await this.note([{ region, decision: 'restrict', why: `not moved further: ${message}` }], now, false);
    }
    for (const region of taken) {
      this.handsOff.add(region);
      this.log.info({ region }, 'an operator took over the automatic outlier evacuation');
    }
  }

  private async followGlobal(j: RelativeJudgement, now: number) {
    const held = this.keeper.current().outlier?.global ?? null;
    if (j.global.raised === (held !== null)) return;
    await this.keeper.change((draft) => {
      const o = outlierOf(draft);
      if (j.global.raised === (o.global !== null)) return null;
      o.global = j.global.raised ? { at: now, why: j.global.why } : null;
      const why = j.global.raised
        ? `${j.global.why}: holding every dial (moving traffic would spread the fault, not contain it)`
        : 'global condition cleared: regions judged one against another again';
      return [recordDecision(draft, { at: now, decision: 'hold-global', why }, { raised: j.global.raised })];
    });
  }

  /** Decisions not to move: once per region and kind while they hold. */
  private async note(notes: OutlierNote[], now: number, onlyThese = true) {
    const keys = notes.map((n) => `${n.region}|${n.decision}`);
    const fresh = notes.filter((n) => !this.noted.has(`${n.region}|${n.decision}`));
    this.noted = new Set(onlyThese ? keys : [...this.noted, ...keys]);
    if (fresh.length === 0) return;
    await this.keeper.change((draft) =>
      fresh.map((n) =>
        recordDecision(draft, { at: now, decision: n.decision, why: n.why, region: n.region }),
      ),
    );
  }

  private async act(move: OutlierMove, now: number) {
    const o = this.config.control.outlier;
    try {
      if (move.kind === 'reevacuate')
        await this.operations.abort(
          move.abort,
          OUTLIER_ACTOR,
          `outlier: still worse at the probe: ${move.why}`,
        );
      const kind = move.kind === 'restore' ? 'restore' : 'evacuate';
      const reason =
        move.kind === 'restore'
          ? `outlier: ${move.probe ? 'probe' : 'recovered'}: ${move.why}`
          : `outlier: ${move.why}`;
      const fromDial = currentDial(this.keeper.current(), move.region) ?? 100;
      // A probe (one small step) holds long enough for a region still worse there to be caught:
      // fallAfter, plus the edges' report interval for the first report at the new dial.
      const stepIntervalMs =
        move.kind === 'restore' && move.probe
          ? Math.max(o.stepInterval, o.fallAfter + EDGE_REPORT_INTERVAL_MS)
          : o.stepInterval;
      const { operation } = await this.operations.start(
        { kind, region: move.region, steps: move.steps, stepIntervalMs, reason },
        OUTLIER_ACTOR,
        true,
      );
      await this.keeper.change((draft) => {
        const out = outlierOf(draft);
        const before = out.evacuated.find((e) => e.region === move.region);
        forgetOutlier(draft, move.region);
        out.evacuated.push({
          region: move.region,
          at: before?.at ?? now,
          why: before?.why ?? move.why,
          fromDial: before?.fromDial ?? fromDial,
          phase: kind === 'restore' ? 'restoring' : 'evacuating',
          operation: operation!.id,
          ...probesAfter(move, before?.probes),
        });
        const decision = kind === 'restore' ? 'restore' : 'redirect';
        const details: Record<string, unknown> = { operation: operation!.id, steps: move.steps };
        if (move.kind === 'redirect') details.partial = move.partial;
        if (move.kind === 'restore') details.probe = move.probe;
        const entries: AuditEntry[] = [
          recordDecision(draft, { at: now, decision, why: reason, region: move.region }, details),
        ];
        return entries;
      });
      this.log.info({ region: move.region, operation: operation!.id, steps: move.steps }, reason);
    } catch (e) {
      const why = (e as Error).message;
      this.retryAt.set(move.region, now + Math.max(1000, o.stepInterval));
      await this.note([{ region: move.region, decision: 'restrict', why: `not moved: ${why}` }], now, false);
      this.log.warn({ region: move.region, err: why }, `outlier ${move.kind} not started`);
    }
  }
}
