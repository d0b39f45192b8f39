import { randomUUID } from 'node:crypto';
import { type MeridianConfig, rolloutWaves } from '../../config/index.js';
import {
  isActive,
  newRollout,
  pauseRollout,
  type RolloutAction,
  type RolloutPlan,
  type RolloutRecord,
  type RolloutWavePlan,
  requestAbort,
  resumeRollout,
  stepRollout,
  withActionResult,
} from '../../core/operations/index.js';
import { MeridianError } from '../../errors.js';
import { type Logger, repeatedFailure } from '../../log.js';
import type { Observer } from '../observer.js';
import { setDial } from '../operation-plan.js';
import { controlRpo } from '../rpo.js';
import type { StateKeeper } from '../state.js';
import type { AuditEntry, ControlState } from '../store/index.js';
import { actionEnv, runAction } from './actions.js';
import type { RolloutSamples } from './samples.js';

export interface RolloutRequest {
  version: string;
  previousVersion?: string;
  waves?: RolloutWavePlan[];
  dryRun?: boolean;
}

const TICK_MS = 200;

/** The last released version: what a rollback goes back to. */
function previousVersionOf(last: RolloutRecord | null | undefined): string | null {
  if (!last) return null;
  return last.status === 'done' ? last.version : last.previousVersion;
}

/**
 * Runs the rollout on the leader: every tick it calls the pure machine
 * (stepRollout, the operations' shape; its drains and restores are embedded
 * moves stepped by the operations' own machine) and commits what it returns (dials and record together, with the audit), then
 * runs the actions it started. An action is recorded as running before it
 * runs, and its result is committed when it ends; a leader that finds an
 * action recorded as running that it did not start (control died, or
 * leadership moved) runs it again: actions must be idempotent.
 */
export class RolloutRunner {
  private timer: NodeJS.Timeout | undefined;
  private stepping = false;
  private readonly inFlight = new Set<string>();
  private readonly ticks;

  constructor(
    private readonly config: MeridianConfig,
    private readonly keeper: StateKeeper,
    private readonly observer: Observer,
    readonly samples: RolloutSamples,
    private readonly log: Logger,
    private readonly isLeader: () => boolean,
    private readonly instance: () => string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.ticks = repeatedFailure(log, {
      failed: 'rollout step failed; trying again',
      recovered: 'rollout steps work again',
    });
  }

  start() {
    this.timer = setInterval(() => void this.tick(Date.now()), TICK_MS);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  plan(): RolloutPlan {
    const r = this.rolloutConfig();
    const g = this.config.control.gates;
    return {
      canarySteps: r.canary.steps,
      bakeMs: r.canary.bake,
      betweenWavesMs: r.canary.betweenWaves,
      minSamples: r.canary.minSamples,
      thresholds: r.canary,
      drainSteps: r.drain.steps,
      drainIntervalMs: r.drain.stepInterval,
      maxGateFailures: r.drain.maxGateFailures,
      gates: { errorRate: g.errorRate, p99Ms: g.p99, maxLoad: g.maxLoad, rpoMs: controlRpo(this.config) },
      verify: r.actions.verify !== undefined,
    };
  }

  private rolloutConfig() {
    const r = this.config.rollout;
    if (!r) throw new MeridianError('CONFLICT', 'no rollout plan: add a `rollout` section to meridian.yaml');
    return r;
  }

  /** Starts a rollout (or only shows the record it would start, dry run). */
  async begin(req: RolloutRequest, who: { name: string; role: string }): Promise<RolloutRecord> {
    const plan = this.rolloutConfig();
    const ids = this.config.regions.map((r) => r.id);
    const waves = req.waves ?? rolloutWaves(plan, ids);
    checkWaves(waves, ids);
    const now = Date.now();
    const build = (state: ControlState) =>
      newRollout({
        id: randomUUID(),
        version: req.version,
        previousVersion: req.previousVersion ?? previousVersionOf(state.rollout),
        waves,
        dials: new Map(state.snapshot.regions.map((r) => [r.id, r.dial])),
        who: who.name,
        now,
      });
    if (req.dryRun) return build(this.keeper.current());
    let started: RolloutRecord | undefined;
    await this.keeper.change((draft) => {
      if (isActive(draft.rollout))
        throw new MeridianError(
          'CONFLICT',
          `rollout ${draft.rollout.id} (${draft.rollout.version}) is still ${draft.rollout.status}`,
        );
      if (draft.operation?.status === 'running')
        throw new MeridianError(
          'CONFLICT',
          `operation ${draft.operation.id} (${draft.operation.kind} ${draft.operation.region}) is still running`,
        );
      started = build(draft);
      draft.rollout = started;
      return [
        this.entry(started, who.role, 'rollout-start', {
          version: started.version,
          previousVersion: started.previousVersion,
          waves,
        }),
      ];
    });
    void this.tick(Date.now());
    return started!;
  }

  pause(id: string, who: { name: string; role: string }) {
    return this.command(id, who, 'rollout-step', (r, now) => pauseRollout(r, who.name, now), {
      paused: true,
    });
  }

  resume(id: string, who: { name: string; role: string }) {
    return this.command(id, who, 'rollout-step', (r, now) => resumeRollout(r, who.name, now), {
      resumed: true,
    });
  }

  abort(id: string, who: { name: string; role: string }, reason: string) {
    return this.command(id, who, 'rollout-abort', (r, now) => requestAbort(r, who.name, reason, now), {
      reason,
    });
  }

  private async command(
    id: string,
    who: { name: string; role: string },
    action: string,
    apply: (r: RolloutRecord, now: number) => RolloutRecord,
    details: Record<string, unknown>,
  ): Promise<RolloutRecord> {
    const state = await this.keeper.change((draft) => {
      const r = draft.rollout;
      if (!r || r.id !== id) throw new MeridianError('NOT_FOUND', `no rollout ${id}`);
      try {
        draft.rollout = apply(r, Date.now());
      } catch (e) {
        throw new MeridianError('CONFLICT', (e as Error).message);
      }
      return [
        {
          ...this.entry(draft.rollout, who.role, action, { ...details, message: draft.rollout.message }),
          who: who.name,
        },
      ];
    });
    void this.tick(Date.now());
    return state!.rollout!;
  }

  private entry(
    r: RolloutRecord,
    role: string,
    action: string,
    details: Record<string, unknown>,
  ): AuditEntry {
    return {
      at: Date.now(),
      who: r.who,
      role,
      action,
      target: r.version,
      details: { rollout: r.id, ...details, instance: this.instance() },
    };
  }

  /** One step of the machine on the leader; exported for tests that drive time themselves. */
  async tick(now: number): Promise<void> {
    if (this.stepping || !this.isLeader()) return;
    this.stepping = true;
    try {
      await this.step(now);
      this.ticks.ok();
    } catch (e) {
      this.ticks.failed(e as Error);
    } finally {
      this.stepping = false;
    }
  }

  private async step(now: number) {
    const seen = this.keeper.current().rollout;
    if (!isActive(seen)) return;
    // An action recorded as running that this process is not running: control died or leadership moved.
    if (seen.action && !seen.action.result && !this.inFlight.has(seen.action.id)) {
      this.log.warn(
        { rollout: seen.id, action: seen.action.id },
        'running an action again: it was in flight when the last leader stopped',
      );
      this.run(seen, seen.action);
    }
    // Gates and judgements need a full window of reports after a (re)start or takeover.
    if (now < this.observer.warmUntil) return;
    const out = stepRollout(
      seen,
      this.keeper.snapshot(),
      { gates: this.observer.readings(now), samples: this.samples.all() },
      now,
      this.plan(),
    );
    if (!out.changed) return;
    const committed = await this.keeper.change((draft) => {
      // Only on top of the record this step was computed from: another writer's change wins, and the next tick retries.
      if (
        draft.rollout?.id !== seen.id ||
        draft.rollout.updatedAt !== seen.updatedAt ||
        draft.rollout.status !== seen.status
      )
        return null;
      for (const d of out.dials) setDial(draft, d.region, d.dial);
      draft.rollout = out.record;
      return out.audit.map((a) => ({ ...a, details: { ...a.details, instance: this.instance() } }));
    });
    if (!committed) return;
    for (const a of out.actions) this.run(out.record, a);
  }

  private run(r: RolloutRecord, a: RolloutAction) {
    const spec = this.rolloutConfig().actions[a.name];
    this.inFlight.add(a.id);
    const args = {
      action: a.name,
      region: a.region,
      version: r.version,
      previousVersion: r.previousVersion,
      rollout: r.id,
    };
    const started = Date.now();
    void (async () => {
      const result = spec
        ? await runAction(spec, args, actionEnv(this.config, this.env))
        : { ok: true, message: `no ${a.name} action configured` };
      this.log.info({ ...args, ...result, ms: Date.now() - started }, `rollout ${a.name} ${a.region}`);
      try {
        if (!this.isLeader()) return; // the new leader runs it again
        await this.keeper.change((draft) => {
          const next = draft.rollout && withActionResult(draft.rollout, a.id, result, Date.now());
          if (!next) return null;
          draft.rollout = next;
          return [];
        });
      } catch (e) {
        this.log.error(
          { err: (e as Error).message, action: a.id },
          'action result not stored; the action runs again',
        );
      } finally {
        this.inFlight.delete(a.id);
      }
      void this.tick(Date.now());
    })();
  }
}

function checkWaves(waves: RolloutWavePlan[], known: string[]) {
  if (waves.length === 0) throw new MeridianError('BAD_ARGUMENT', 'expected at least one wave');
  const seen = new Set<string>();
  for (const w of waves) {
    if (w.regions.length === 0) throw new MeridianError('BAD_ARGUMENT', 'a wave needs at least one region');
    for (const id of w.regions) {
      if (!known.includes(id))
        throw new MeridianError('UNKNOWN_REGION', `no region "${id}"; known: ${known.join(', ')}`);
      if (seen.has(id)) throw new MeridianError('BAD_ARGUMENT', `region "${id}" is in two waves`);
      seen.add(id);
    }
  }
}
