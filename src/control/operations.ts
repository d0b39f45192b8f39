import { randomUUID } from 'node:crypto';
import type { MeridianConfig } from '../config/index.js';
import { checkGates, type MovePlan } from '../core/evacuation-plan.js';
import { MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ControlMetrics } from './metrics.js';
import type { Observer } from './observer.js';
import {
  autoRestoreSteps,
  callScaleUp,
  currentDial,
  forgetFailedOver,
  type MoveRequest,
  planRequest,
  type ReplicationCheck,
  receiversOf,
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

const roleOf = (op: OperationRecord) => (op.auto ? 'system' : 'operator');

/** An operator's move on a region takes over from control's automatic restore of that region. */
const supersedes = (running: OperationRecord, region: string, auto: boolean) =>
  running.auto === true && !auto && running.region === region;

const stillFailedOver = (draft: ControlState, region: string) => {
  const r = draft.snapshot.regions.find((x) => x.id === region);
  const mark = (draft.failedOver ?? []).find((f) => f.region === region);
  return r?.health === 'HEALTHY' && mark !== undefined && r.dial < mark.dial;
};

export function finishEntry(op: OperationRecord, status: string, at: number): AuditEntry {
  return {
    at,
    who: op.who,
    role: roleOf(op),
    action: `${op.kind}-${status}`,
    target: op.region,
    reason: op.reason,
    details: { operation: op.id, message: op.message },
  };
}

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

  /** Validates, runs the headroom and replication pre-checks and starts the operation (or only plans it, dry run). */
  async start(
    req: MoveRequest,
    who: Actor,
    auto = false,
    /** Control's restore after a failover (startAuto): only while the region is still failed over. */
    failover = false,
  ): Promise<{ plan: MovePlan; operation: OperationRecord | null; replication: ReplicationCheck | null }> {
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
    const op: OperationRecord = {
      id: randomUUID(),
      kind: req.kind,
      region: req.region,
      steps: req.steps,
      stepIntervalMs: req.stepIntervalMs,
      fromDial: snap.regions.get(req.region)!.dial,
      index: -1,
      status: 'running',
      failures: 0,
      reason: req.reason,
      who: who.name,
      startedAt: now,
      stepAt: now,
      message: plan.ok ? 'starting' : 'waiting for capacity (scale-up webhook called)',
      ...(auto ? { auto: true } : {}),
    };
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
        // An operator's move on the region replaces control's automatic restore of it.
        other.status = 'aborted';
        other.message = `superseded by ${who.name}'s ${req.kind}; dial was ${currentDial(draft, other.region)}`;
        other.stepAt = now;
        entries.unshift(finishEntry(other, 'aborted', now));
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
    return this.start(req, { name: 'control', role: 'system' }, true, true);
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
      op.status = 'aborted';
      op.message = `aborted by ${who.name}: ${reason}; dial stays at ${currentDial(draft, op.region)}`;
      return [
        {
          at: Date.now(),
          who: who.name,
          role: who.role,
          action: 'abort',
          target: op.region,
          reason,
          details: { operation: id },
        },
      ];
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

  private async loop() {
    while (!this.stopped) {
      const op = this.keeper.current().operation;
      if (op?.status !== 'running') return;
      try {
        await this.advance(op);
      } catch (e) {
        this.log.error({ err: (e as Error).message, operation: op.id }, 'operation step failed; retrying');
        await this.sleep(1000);
      }
    }
  }

  /** One move of the state machine: wait for the step's interval, then check gates and go on or back off. */
  private async advance(op: OperationRecord) {
    if (op.index === -1) {
      if (op.message.startsWith('waiting for capacity')) return this.waitForCapacity(op);
      return this.applyStep(op, 0, 'step 1 applied');
    }
    // Right after a (re)start or a takeover the reports are not all here yet: wait for them rather than fail a gate.
    const due = Math.max(op.stepAt + op.stepIntervalMs, this.observer.warmUntil) - Date.now();
    if (due > 0) return this.sleep(due);
    const g = this.config.control.gates;
    const receivers = receiversOf(this.keeper.snapshot(), op.kind, op.region);
    const failures = checkGates(receivers, this.observer.readings(Date.now()), {
      errorRate: g.errorRate,
      p99Ms: g.p99,
      maxLoad: g.maxLoad,
      rpoMs: controlRpo(this.config),
    });
    if (failures.length === 0) {
      this.metrics.operationSteps.inc({ kind: op.kind, result: 'passed' });
      if (op.index === op.steps.length - 1)
        return this.finish(op, 'done', `done: ${op.region} dial ${op.steps[op.index]}`);
      return this.applyStep(op, op.index + 1, `step ${op.index + 2} applied`);
    }
    this.metrics.operationSteps.inc({ kind: op.kind, result: 'gate-failed' });
    const back = op.index - 1;
    const backDial = back >= 0 ? op.steps[back] : op.fromDial;
    if (op.failures + 1 >= g.maxFailures) {
      const retry = op.auto ? Date.now() + this.config.control.autoRestore.retryAfter : undefined;
      return this.finish(
        op,
        'aborted',
        `aborted after ${op.failures + 1} failed gates (${failures.join('; ')}); dial backed off to ${backDial}` +
          (retry === undefined ? '' : `; control tries again at ${new Date(retry).toISOString()}`),
        backDial,
        retry,
      );
    }
    await this.commitStep(
      op,
      back,
      backDial,
      op.failures + 1,
      `gate failed (${failures.join('; ')}); backed off to dial ${backDial}`,
    );
  }

  private applyStep(op: OperationRecord, index: number, message: string) {
    return this.commitStep(op, index, op.steps[index], index > op.index ? op.failures : op.failures, message);
  }

  private async commitStep(
    op: OperationRecord,
    index: number,
    dial: number,
    failures: number,
    message: string,
  ) {
    const now = Date.now();
    await this.keeper.change((draft) => {
      if (!atSameStep(draft.operation, op)) return null;
      setDial(draft, op.region, dial);
      Object.assign(draft.operation!, { index, failures, stepAt: now, message });
      return [
        {
          at: now,
          who: op.who,
          role: roleOf(op),
          action: `${op.kind}-step`,
          target: op.region,
          reason: op.reason,
          details: { operation: op.id, dial, index, message, instance: this.instance() },
        },
      ];
    });
    this.log.info({ operation: op.id, region: op.region, dial, index }, message);
  }

  private async finish(
    op: OperationRecord,
    status: 'done' | 'aborted',
    message: string,
    dial?: number,
    /** Control's own restore gave up: remembered again, tried after this (ms epoch). */
    retryAt?: number,
  ) {
    await this.keeper.change((draft) => {
      if (!atSameStep(draft.operation, op)) return null;
      if (dial !== undefined) setDial(draft, op.region, dial);
      if (retryAt !== undefined)
        rememberFailedOver(draft, { region: op.region, dial: op.steps.at(-1)!, at: op.startedAt, retryAt });
      const done = Object.assign(draft.operation!, { status, message, stepAt: Date.now() });
      const entry = finishEntry(done, status, Date.now());
      entry.details = { ...entry.details, instance: this.instance() };
      return [entry];
    });
  }

  private async waitForCapacity(op: OperationRecord) {
    const plan = this.plan({ ...op, dryRun: true });
    if (plan.ok) return this.applyStep(op, 0, 'capacity arrived; step 1 applied');
    const wait = this.config.control.scaleUp?.wait ?? 0;
    if (Date.now() - op.startedAt > wait) {
      return this.finish(
        op,
        'aborted',
        `aborted: headroom ${plan.headroom} req/s never reached ${plan.needed} req/s`,
      );
    }
    await this.sleep(1000);
  }

  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.min(ms, 1000));
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
