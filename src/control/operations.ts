import { randomUUID } from 'node:crypto';
import type { MeridianConfig } from '../config/index.js';
import type { MovePlan } from '../core/evacuation-plan.js';
import {
  abortOperation,
  autoRestoreSteps,
  ended,
  finishEntry,
  newOperation,
  type OperationSettings,
  type OperationStep,
  receiversOf,
  stepOperation,
} from '../core/operations/index.js';
import { regionsInRollout } from '../core/operations/rollout-record.js';
import { MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ControlMetrics } from './metrics.js';
import type { Observer } from './observer.js';
import {
  callScaleUp,
  currentDial,
  forgetFailedOver,
  type MoveRequest,
  planRequest,
  type ReplicationCheck,
  rememberFailedOver,
  replicationCheck,
  rpoRefusal,
  setDial,
} from './operation-plan.js';
import { atSameStep } from './operation-step.js';
import { controlRpo } from './rpo.js';
import type { StateKeeper } from './state.js';
import type { AuditEntry, ControlState, FailedOver, OperationRecord } from './store/index.js';

export type { MoveRequest };

/** Who starts an operation: an operator's token, or control itself. */
export type Actor = { name: string; role: string };

/** An operator's move on a region takes over from control's automatic move of that region. */
const supersedes = (running: OperationRecord, region: string, auto: boolean) =>
  running.auto === true && !auto && running.region === region;

const stillFailedOver = (draft: ControlState, region: string) => {
  const r = draft.snapshot.regions.find((x) => x.id === region);
  const mark = (draft.failedOver ?? []).find((f) => f.region === region);
  return r?.health === 'HEALTHY' && mark !== undefined && r.dial < mark.dial;
};

export { finishEntry };

/**
 * Runs evacuations and restores on the leader. Each step is one commit of the
 * dial together with the operation's progress, so a restart finds either the
 * step applied or not, never half of it, and resumes from there.
 */
export class Operations {
  private running: Promise<void> | undefined;
  private stopped = true;
  private wake: (() => void) | undefined;

  constructor(
    private readonly config: MeridianConfig,
    private readonly keeper: StateKeeper,
    private readonly observer: Observer,
    private readonly metrics: ControlMetrics,
    private readonly log: Logger,
    /** This instance's URL: step and finish entries in the audit name the instance that ran them. */
    private readonly instance: () => string = () => '',
  ) {}

  plan(req: MoveRequest): MovePlan {
    return planRequest(this.keeper.snapshot(), req, this.config.control.gates.margin);
  }

  /**
   * Validates, runs the headroom and replication pre-checks and starts the
   * operation (or only plans it, dry run). `auto`: control starts it itself
   * (an outlier's evacuation, say), so an operator's move of the region supersedes it.
   */
  start(
    req: MoveRequest,
    who: Actor,
    auto = false,
  ): Promise<{ plan: MovePlan; operation: OperationRecord | null; replication: ReplicationCheck | null }> {
    return this.begin(req, who, auto, false);
  }

  /** Control's own restore of a region it failed over, now HEALTHY again: back to the dial it had. */
  startAuto(mark: FailedOver) {
    const a = this.config.control.autoRestore;
    const req: MoveRequest = {
      kind: 'restore',
      region: mark.region,
      steps: autoRestoreSteps(a.steps, mark.dial, currentDial(this.keeper.current(), mark.region)),
      stepIntervalMs: a.stepInterval,
      reason: 'recovered from DOWN',
    };
    return this.begin(req, { name: 'control', role: 'system' }, true, true);
  }

  private async begin(req: MoveRequest, who: Actor, auto: boolean, failover: boolean) {
    const plan = this.plan(req);
    const snap = this.keeper.snapshot();
    const replication = this.replicationOf(req.kind, req.region);
    if (req.dryRun) return { plan, operation: null, replication };
    const running = this.keeper.current().operation;
    if (running?.status === 'running' && !supersedes(running, req.region, auto)) {
      throw new MeridianError(
        'CONFLICT',
        `operation ${running.id} (${running.auto ? 'automatic ' : ''}${running.kind} ${running.region}) is still running`,
      );
    }
    const rollout = this.keeper.current().rollout;
    // A paused rollout leaves its regions to the operator (an emergency move); a running one moves them itself.
    if (rollout?.status === 'running' && regionsInRollout(rollout).includes(req.region)) {
      throw new MeridianError(
        'CONFLICT',
        `rollout ${rollout!.id} (${rollout!.version}) is moving ${req.region}; pause or abort it first`,
      );
    }
    const lastDial = req.steps.at(-1)!;
    if (req.kind === 'evacuate' && lastDial < 100) {
      const othersUp = [...snap.regions.values()].filter((r) => r.id !== req.region && r.health !== 'DOWN');
      if (othersUp.length === 0) {
        throw new MeridianError(
          'CONFLICT',
          `${req.region} is the last region not DOWN; it is never evacuated`,
        );
      }
    }
    if (!plan.ok && !this.config.control.scaleUp) {
      throw new MeridianError(
        'CONFLICT',
        `refused: receivers have ${plan.headroom} req/s of headroom; moving ${plan.moved} req/s needs ${plan.needed} (${Math.round(this.config.control.gates.margin * 100)} % margin)`,
        plan.steps
          .at(-1)!
          .regions.map((r) => `${r.region}: projected ${r.load}/${r.capacity} req/s at dial ${lastDial}`),
      );
    }
    if (replication && !replication.ok) throw rpoRefusal(replication);
    const now = Date.now();
    const op = newOperation(
      {
        id: randomUUID(),
        kind: req.kind,
        region: req.region,
        steps: req.steps,
        stepIntervalMs: req.stepIntervalMs,
        reason: req.reason,
        who: who.name,
        fromDial: snap.regions.get(req.region)!.dial,
        waitForCapacity: !plan.ok,
        auto,
        failover,
      },
      now,
    );
    const audit: AuditEntry = {
      at: now,
      who: who.name,
      role: who.role,
      action: req.kind,
      target: req.region,
      reason: req.reason,
      details: {
        operation: op.id,
        steps: req.steps,
        stepIntervalMs: req.stepIntervalMs,
        moved: plan.moved,
        headroom: plan.headroom,
        ...(replication ? { replication } : {}),
        ...(auto ? { auto: true } : {}),
      },
    };
    await this.keeper.change((draft) => {
      const other = draft.operation;
      const entries = [audit];
      if (other?.status === 'running') {
        if (!supersedes(other, req.region, auto))
          throw new MeridianError('CONFLICT', 'another operation started first');
        // An operator's move on the region replaces control's automatic move of it.
        const message = `superseded by ${who.name}'s ${req.kind}; dial was ${currentDial(draft, other.region)}`;
        entries.unshift(finishEntry(ended(other, 'aborted', message, now), 'aborted', now));
      }
      if (failover && !stillFailedOver(draft, req.region))
        throw new MeridianError('CONFLICT', 'no longer failed over');
      forgetFailedOver(draft, req.region);
      draft.operation = op;
      return entries;
    });
    if (!plan.ok) void callScaleUp(this.config.control.scaleUp!.webhook, op, plan, this.log);
    this.kick();
    return { plan, operation: op, replication };
  }

  /** Each receiver's reported replication lag against the RPO (controlRpo); null when there is none. */
  replicationOf(kind: 'evacuate' | 'restore', region: string): ReplicationCheck | null {
    const rpo = controlRpo(this.config);
    if (rpo === undefined) return null;
    const lags = new Map(
      [...this.observer.readings(Date.now())].map(([id, r]) => [id, r.replicationLagMs] as const),
    );
    return replicationCheck(receiversOf(this.keeper.snapshot(), kind, region), lags, rpo);
  }

  async abort(id: string, who: Actor, reason: string): Promise<OperationRecord> {
    const result = await this.keeper.change((draft) => {
      const op = draft.operation;
      if (!op || op.id !== id) throw new MeridianError('NOT_FOUND', `no operation ${id}`);
      if (op.status !== 'running')
        throw new MeridianError('CONFLICT', `operation ${id} is already ${op.status}`);
      const { operation, audit } = abortOperation(op, who, reason, currentDial(draft, op.region), Date.now());
      draft.operation = operation;
      return audit;
    });
    this.kick();
    return result!.operation!;
  }

  /** Leader only: follow the running operation, if any. Safe to call again. */
  resume() {
    this.stopped = false;
    if (!this.running) this.running = this.loop().finally(() => (this.running = undefined));
  }

  async stop() {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private kick() {
    this.wake?.();
    if (!this.stopped) this.resume();
  }

  private settings(): OperationSettings {
    const c = this.config.control;
    return {
      gates: { ...c.gates, p99Ms: c.gates.p99, rpoMs: controlRpo(this.config) },
      autoRestoreRetryAfterMs: c.autoRestore.retryAfter,
      scaleUpWaitMs: c.scaleUp?.wait ?? 0,
      warmUntil: this.observer.warmUntil,
    };
  }

  /** Runs the core machine: commits what it returns, or sleeps until it wants to look again (or is kicked). */
  private async loop() {
    while (!this.stopped) {
      const op = this.keeper.current().operation;
      if (op?.status !== 'running') return;
      try {
        const now = Date.now();
        const step = stepOperation(
          op,
          this.keeper.snapshot(),
          this.observer.readings(now),
          now,
          this.settings(),
        );
        if (step.gate)
          this.metrics.operationSteps.inc({
            kind: op.kind,
            result: step.gate === 'passed' ? 'passed' : 'gate-failed',
          });
        if (step.changed) await this.commit(op, step);
        else await this.sleep(step.wakeAt - now);
      } catch (e) {
        this.log.error({ err: (e as Error).message, operation: op.id }, 'operation step failed; retrying');
        await this.sleep(1000);
      }
    }
  }

  /** One step, one commit: the dials, the operation's progress and its audit entries, unless another instance moved it on first. */
  private async commit(seen: OperationRecord, step: OperationStep) {
    const committed = await this.keeper.change((draft) => {
      if (!atSameStep(draft.operation, seen)) return null;
      for (const d of step.dials) setDial(draft, d.region, d.dial);
      if (step.failedOver) rememberFailedOver(draft, step.failedOver);
      draft.operation = { ...step.record };
      return step.audit.map((a) => ({ ...a, details: { ...a.details, instance: this.instance() } }));
    });
    if (committed === null) return;
    const { id, region, index, message } = step.record;
    this.log.info({ operation: id, region, dial: step.dials[0]?.dial, index }, message);
  }

  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(0, Math.min(ms, 1000)));
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
