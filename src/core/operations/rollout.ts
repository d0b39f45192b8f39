// The staged rollout as a pure state machine, in the operations' one shape:
// (rollout, snapshot, readings, now, plan) -> the next rollout, the dials to
// set, the audit entries, and the actions to run. Control's runner commits
// the result in one change and runs the actions; an action's result comes
// back into the record (withActionResult) and the next step takes it up.
// Phases per wave:
//   drain:    draining -> deploying -> verifying ->
//             canary (first ramp dial, bake, judge) -> baking (each further dial, bake, judge)
//   in-place: deploying -> verifying -> baking (bake, judge)
// then between-waves, or done. A failed judgement, action or drain, or an
// abort: rolling-back (rollback for every region reached, newest first) ->
// restoring (dials back to where they were) -> rolled-back/aborted.
// Draining and restoring move dials with an embedded move (an evacuation or
// a restore, `stepMove`): gate judgement, back-off and abort exist once, in
// move.ts. The ramp judges the canary after each bake instead of gates.
import { type CanarySample, judgeCanary } from '../canary.js';
import type { Snapshot } from '../model.js';
import { stepMove } from './move.js';
import { ended, newOperation } from './record.js';
import type {
  RolloutAction,
  RolloutActionName,
  RolloutPhase,
  RolloutPlan,
  RolloutReadings,
  RolloutRecord,
} from './rollout-record.js';
import type { AuditLike, MachineStep, MoveKind, Operation, OperationSettings } from './types.js';

export * from './rollout-record.js';

export type RolloutAuditAction =
  | 'rollout-step'
  | 'rollout-judgement'
  | 'rollout-rollback'
  | 'rollout-done'
  | 'rollout-abort';

export interface RolloutStep extends MachineStep<RolloutRecord> {
  /** Actions to start now (already recorded as the rollout's running action). */
  actions: RolloutAction[];
}

/** The canary ramp for a region: the plan's steps below where it was, then where it was. */
export function rampSteps(steps: readonly number[], dialBefore: number): number[] {
  return [...steps.filter((s) => s < dialBefore), dialBefore];
}

/** A drain's steps for a region at `dial`: the plan's drain steps below it (none: nothing to drain). */
export function drainSteps(steps: readonly number[], dial: number): number[] {
  return steps.filter((s) => s < dial);
}

/** The move that brings a region from `dial` back to `target`: up through the ramp's steps, or down at once. */
export function restoreMove(
  canarySteps: readonly number[],
  dial: number,
  target: number,
): { kind: MoveKind; steps: number[] } | null {
  if (dial === target) return null;
  if (dial > target) return { kind: 'evacuate', steps: [target] };
  return { kind: 'restore', steps: rampSteps(canarySteps, target).filter((x) => x > dial) };
}

/** The settings an embedded move is stepped with: the plan's gates and interval; no scale-up, no retry. */
export const moveSettings = (plan: RolloutPlan): OperationSettings => ({
  gates: { ...plan.gates, margin: 0, maxFailures: plan.maxGateFailures },
  autoRestoreRetryAfterMs: 0,
  scaleUpWaitMs: 0,
  warmUntil: 0,
});

const MAX_ROLLBACK_ATTEMPTS = 3;
const JUDGEMENTS_KEPT = 50;

class Step {
  readonly dials = new Map<string, number>();
  readonly actions: RolloutAction[] = [];
  readonly audit: AuditLike[] = [];
  changed = false;
  /** When an embedded move wants to be stepped again. */
  moveWake = Number.POSITIVE_INFINITY;

  constructor(
    readonly r: RolloutRecord,
    readonly snap: Snapshot,
    readonly readings: RolloutReadings,
    readonly now: number,
    readonly plan: RolloutPlan,
  ) {}

  get wave() {
    return this.r.waves[this.r.waveIndex];
  }

  dialOf(id: string): number {
    return this.dials.get(id) ?? this.snap.regions.get(id)?.dial ?? 0;
  }

  /** Regions not DOWN, in the snapshot's order. */
  upRegions(): string[] {
    return [...this.snap.regions.values()].filter((x) => x.health !== 'DOWN').map((x) => x.id);
  }

  setDial(id: string, dial: number) {
    if (this.dialOf(id) === dial) return;
    this.dials.set(id, dial);
    this.changed = true;
  }

  phase(phase: RolloutPhase, message: string, details: Record<string, unknown> = {}) {
    Object.assign(this.r, { phase, phaseAt: this.now, step: 0, message });
    this.note('rollout-step', { phase, message, ...details });
  }

  note(action: RolloutAuditAction, details: Record<string, unknown>, target?: string) {
    this.audit.push({
      at: this.now,
      who: this.r.who,
      role: 'operator',
      action,
      target: target ?? this.r.version,
      details: { rollout: this.r.id, ...details },
    });
    this.r.message = String(details.message ?? details.why ?? this.r.message);
    this.changed = true;
  }

  region(id: string, phase: string) {
    this.r.regions[id].phase = phase;
    this.changed = true;
  }

  start(name: RolloutActionName, region: string, attempt = 1) {
    const action: RolloutAction = {
      id: `${this.r.id}/${name}/${region}/${attempt}`,
      name,
      region,
      startedAt: this.now,
      attempt,
    };
    this.r.action = action;
    this.actions.push(action);
    if (name === 'deploy' && !this.r.regionsReached.includes(region)) this.r.regionsReached.push(region);
    this.region(region, name === 'deploy' ? 'deploying' : name === 'verify' ? 'verifying' : 'rolling-back');
    this.note(
      'rollout-step',
      {
        phase: this.r.phase,
        action: name,
        attempt,
        message: `${name} ${region}${attempt > 1 ? ` (try ${attempt})` : ''}`,
      },
      region,
    );
  }

  /** Starts the embedded move of a region and steps it at once (its first step applies). */
  startMove(kind: MoveKind, region: string, steps: number[]) {
    const op = newOperation(
      {
        id: `${this.r.id}/${this.r.phase}/${region}`,
        kind,
        region,
        steps,
        stepIntervalMs: this.plan.drainIntervalMs,
        reason: `rollout ${this.r.version}: ${this.r.phase}`,
        who: this.r.who,
        fromDial: this.dialOf(region),
        waitForCapacity: false,
      },
      this.now,
    );
    return this.stepMove(op);
  }

  /** Steps the embedded move through the operations' machine; its dials and progress become the rollout's. */
  stepMove(op: Operation) {
    const out = stepMove(op, this.snap, this.readings.gates, this.now, moveSettings(this.plan));
    this.moveWake = out.wakeAt;
    if (!out.changed) return out;
    this.r.move = out.record;
    for (const d of out.dials) this.setDial(d.region, d.dial);
    const dials = Object.fromEntries(out.dials.map((d) => [d.region, d.dial]));
    this.note(
      'rollout-step',
      {
        phase: this.r.phase,
        move: op.id,
        kind: op.kind,
        movePhase: out.record.phase,
        ...(out.dials.length > 0 ? { dials } : {}),
        message: `${this.r.phase} ${op.region}: ${out.record.message}`,
      },
      op.region,
    );
    return out;
  }
}

export function stepRollout(
  rollout: RolloutRecord,
  snapshot: Snapshot,
  readings: RolloutReadings,
  now: number,
  plan: RolloutPlan,
): RolloutStep {
  const s = new Step(structuredClone(rollout), snapshot, readings, now, plan);
  if (s.r.status === 'running') advance(s);
  if (!s.changed)
    return { record: rollout, changed: false, dials: [], audit: [], actions: [], wakeAt: wakeAt(s) };
  s.r.updatedAt = now;
  const dials = [...s.dials].map(([region, dial]) => ({ region, dial }));
  return { record: s.r, changed: true, dials, audit: s.audit, actions: s.actions, wakeAt: wakeAt(s) };
}

/** When to step again at the latest: a move's or a bake's due time; Infinity when only an action's result moves it on. */
function wakeAt(s: Step): number {
  const { r, plan } = s;
  if (r.status !== 'running' || (r.action && !r.action.result)) return Number.POSITIVE_INFINITY;
  if (r.action?.result || (r.abortRequested && !r.failure)) return s.now;
  switch (r.phase) {
    case 'draining':
    case 'restoring':
      return r.move?.status === 'running'
        ? Math.min(s.moveWake, r.move.stepAt + r.move.stepIntervalMs)
        : s.now;
    case 'canary':
    case 'baking':
      return r.phaseAt + plan.bakeMs;
    case 'between-waves':
      return r.phaseAt + plan.betweenWavesMs;
    default:
      return s.now;
  }
}

function advance(s: Step) {
  const { r } = s;
  const action = r.action;
  if (action && !action.result) return; // the runner is on it
  if (action?.result) {
    r.action = null;
    s.changed = true;
    actionEnded(s, action as Required<RolloutAction>);
    return;
  }
  if (r.abortRequested && !r.failure) {
    const a = r.abortRequested;
    return rollBack(s, `aborted by ${a.who}${a.reason ? `: ${a.reason}` : ''}`, true);
  }
  switch (r.phase) {
    case 'between-waves':
      return betweenWaves(s);
    case 'draining':
      return drain(s);
    case 'deploying':
      return nextAction(s, 'deploy', 'deployed');
    case 'verifying':
      return nextAction(s, 'verify', 'verified');
    case 'canary':
    case 'baking':
      return bake(s);
    case 'rolling-back':
      return nextRollback(s);
    case 'restoring':
      return restore(s);
    case 'done':
      return;
  }
}

function betweenWaves(s: Step) {
  const { r } = s;
  if (r.waveIndex >= 0 && s.now - r.phaseAt < s.plan.betweenWavesMs) return;
  r.waveIndex++;
  const wave = s.wave;
  for (const id of wave.regions) r.regions[id].dialBefore = s.dialOf(id);
  const label = `wave ${r.waveIndex + 1}/${r.waves.length} (${wave.regions.join(', ')}, ${wave.strategy})`;
  if (wave.strategy === 'in-place' || nextToDrain(s) === undefined) {
    s.phase('deploying', `${label}: deploying ${r.version}`, { wave: r.waveIndex });
    return nextAction(s, 'deploy', 'deployed');
  }
  s.phase('draining', `${label}: draining`, { wave: r.waveIndex });
  drain(s);
}

/** The wave's next region with traffic to drain. */
const nextToDrain = (s: Step) =>
  s.wave.regions.find((id) => drainSteps(s.plan.drainSteps, s.dialOf(id)).length > 0);

/**
 * The wave's regions are drained one after the other, each by an evacuation
 * through the gates in the regions that receive its traffic; when one aborts
 * (its gates failed `maxGateFailures` times, backing off each time), the
 * rollout rolls back before any deploy.
 */
function drain(s: Step) {
  const { r } = s;
  const running = r.move?.status === 'running' ? r.move : null;
  const out = running ? s.stepMove(running) : startDrain(s);
  if (out === null) {
    s.phase('deploying', `drained; deploying ${r.version}`);
    return nextAction(s, 'deploy', 'deployed');
  }
  if (out.record.status === 'running') return;
  if (out.record.status === 'aborted') {
    const why = (out.gateFailures ?? []).join('; ') || out.record.message;
    return rollBack(s, `gates failed ${out.record.failures} times while draining: ${why}`, false);
  }
  drain(s); // done: the next region, or the deploy
}

function startDrain(s: Step) {
  const id = nextToDrain(s);
  if (id === undefined) return null;
  s.region(id, 'draining');
  return s.startMove('evacuate', id, drainSteps(s.plan.drainSteps, s.dialOf(id)));
}

/** Starts the action on the wave's next region without it, or moves on when every region has it. */
function nextAction(s: Step, name: 'deploy' | 'verify', donePhase: string) {
  const next = s.wave.regions.find((id) => s.r.regions[id].phase !== donePhase);
  if (next !== undefined) return s.start(name, next);
  if (name === 'deploy' && s.plan.verify) {
    s.phase('verifying', `deployed ${s.r.version}; verifying`);
    return nextAction(s, 'verify', 'verified');
  }
  startBake(s);
}

function startBake(s: Step) {
  const wave = s.wave;
  if (wave.strategy === 'in-place') {
    for (const id of wave.regions) s.region(id, 'baking');
    return s.phase('baking', `baking ${s.r.version} in place for ${s.plan.bakeMs} ms`);
  }
  s.phase('canary', `canary of ${s.r.version}`);
  applyRampStep(s);
}

const rampOf = (s: Step, id: string) => rampSteps(s.plan.canarySteps, s.r.regions[id].dialBefore);
const rampLength = (s: Step) => Math.max(...s.wave.regions.map((id) => rampOf(s, id).length));

function applyRampStep(s: Step) {
  const dials: Record<string, number> = {};
  for (const id of s.wave.regions) {
    const ramp = rampOf(s, id);
    dials[id] = ramp[Math.min(s.r.step, ramp.length - 1)];
    s.setDial(id, dials[id]);
    s.region(id, s.r.phase);
  }
  s.r.phaseAt = s.now;
  s.note('rollout-step', {
    phase: s.r.phase,
    step: s.r.step,
    dials,
    message: `${s.r.phase === 'canary' ? 'canary' : 'ramp'} at dial ${Object.values(dials).join('/')}: baking ${s.plan.bakeMs} ms`,
  });
}

function windowOf(s: Step, ids: readonly string[]): CanarySample[] {
  return ids.flatMap((id) =>
    (s.readings.samples.get(id) ?? []).filter((x) => x.at >= s.r.phaseAt && x.at <= s.now),
  );
}

function bake(s: Step) {
  const { r, plan } = s;
  const waited = s.now - r.phaseAt;
  if (waited < plan.bakeMs) return;
  const wave = s.wave.regions;
  const canary = windowOf(s, wave);
  // A restart or a slow edge leaves the window thin: bake up to two more rounds before judging what there is.
  if (canary.filter((x) => x.requestsPerS > 0).length < plan.minSamples && waited < 3 * plan.bakeMs) return;
  const baselineIds = s.upRegions().filter((id) => !wave.includes(id));
  // A region the operator keeps at dial 0 serves nobody: there is nothing to judge, and no one to hurt.
  const idle = wave.every((id) => s.dialOf(id) === 0) && !canary.some((x) => x.requestsPerS > 0);
  const j = idle
    ? { pass: true, why: 'dial 0 and no traffic: nothing to judge', metrics: [] }
    : judgeCanary(canary, windowOf(s, baselineIds), plan.thresholds);
  const dial = s.dialOf(wave[0]);
  const region = wave.join(',');
  r.judgements = [
    ...r.judgements,
    { at: s.now, region, dial, pass: j.pass, why: j.why, metrics: j.metrics },
  ].slice(-JUDGEMENTS_KEPT);
  s.note(
    'rollout-judgement',
    { dial, pass: j.pass, why: j.why, metrics: j.metrics, samples: canary.length, baseline: baselineIds },
    region,
  );
  if (!j.pass) return rollBack(s, `judgement failed for ${region} at dial ${dial}: ${j.why}`, false);
  if (s.wave.strategy === 'drain' && r.step + 1 < rampLength(s)) {
    r.phase = 'baking';
    r.step++;
    return applyRampStep(s);
  }
  for (const id of wave) s.region(id, 'done');
  if (r.waveIndex + 1 < r.waves.length) {
    return s.phase('between-waves', `wave ${r.waveIndex + 1} done; next wave in ${plan.betweenWavesMs} ms`);
  }
  r.status = 'done';
  s.phase('done', `done: ${r.version} in every region`);
  s.note('rollout-done', { status: 'done', message: r.message });
}

function rollBack(s: Step, why: string, aborted: boolean) {
  const { r } = s;
  r.failure = { why, aborted };
  r.abortRequested = aborted ? r.abortRequested : null;
  // A drain or restore under way stops where it is: restoring brings every dial back.
  if (r.move?.status === 'running') r.move = ended(r.move, 'aborted', `stopped: ${why}`, s.now);
  // The failing wave's deployed drained regions stop taking traffic at once: their users are served elsewhere meanwhile.
  if (r.waveIndex >= 0 && s.wave.strategy === 'drain') {
    const floor = s.plan.drainSteps.at(-1)!;
    for (const id of s.wave.regions)
      if (r.regionsReached.includes(id) && s.dialOf(id) > floor) s.setDial(id, floor);
  }
  r.rollbackLeft = [...r.regionsReached].reverse();
  s.note(aborted ? 'rollout-abort' : 'rollout-rollback', { why, regions: r.rollbackLeft, message: why });
  s.phase('rolling-back', `rolling back ${r.rollbackLeft.join(', ') || 'nothing'}: ${why}`);
  nextRollback(s);
}

function nextRollback(s: Step) {
  const next = s.r.rollbackLeft[0];
  if (next !== undefined) return s.start('rollback', next);
  s.phase('restoring', 'restoring dials');
  s.r.move = null;
  s.r.restoreLeft = notRestored(s);
  restore(s);
}

/** Regions whose dial the rollout moved: every region of the waves it started. */
const touched = (s: Step) => s.r.waves.slice(0, Math.max(0, s.r.waveIndex + 1)).flatMap((w) => w.regions);
const notRestored = (s: Step) => touched(s).filter((id) => s.dialOf(id) !== s.r.regions[id].dialBefore);

/**
 * Brings the dials the rollout moved back, one region after the other, each
 * by a move through the gates (a restore judges the region itself); a region
 * whose move aborts stays where its gates left it, and the message says so.
 */
function restore(s: Step) {
  const { r } = s;
  // A record from before embedded moves: what is left follows from the dials.
  r.restoreLeft ??= notRestored(s);
  const running = r.move?.status === 'running' ? r.move : null;
  if (running) {
    const out = s.stepMove(running);
    if (out.record.status === 'running') return;
    r.restoreLeft = r.restoreLeft.filter((id) => id !== running.region);
    s.changed = true;
  }
  while (r.restoreLeft.length > 0) {
    const id = r.restoreLeft[0];
    const move = restoreMove(s.plan.canarySteps, s.dialOf(id), r.regions[id].dialBefore);
    if (move) {
      const out = s.startMove(move.kind, id, move.steps);
      if (out.record.status === 'running') return;
    }
    r.restoreLeft = r.restoreLeft.slice(1);
    s.changed = true;
  }
  finishRollback(s);
}

function finishRollback(s: Step) {
  const { r } = s;
  const aborted = r.failure?.aborted === true;
  r.status = aborted ? 'aborted' : 'rolled-back';
  const failed = Object.entries(r.regions)
    .filter(([, x]) => x.phase === 'rollback-failed')
    .map(([id]) => id);
  const stuck = touched(s)
    .filter((id) => s.dialOf(id) !== r.regions[id].dialBefore)
    .map((id) => `${id} at ${s.dialOf(id)} (was ${r.regions[id].dialBefore})`);
  const message =
    `${r.status}: ${r.failure?.why ?? ''}` +
    (failed.length ? `; rollback FAILED in ${failed.join(', ')}` : '') +
    (stuck.length ? `; dials not restored (gates failed): ${stuck.join(', ')}` : '');
  r.move = null;
  s.phase('done', message);
  s.note(aborted ? 'rollout-abort' : 'rollout-rollback', { status: r.status, message, finished: true });
}

function actionEnded(s: Step, a: Required<RolloutAction>) {
  const { r } = s;
  const { ok, message } = a.result;
  s.note(
    'rollout-step',
    {
      action: a.name,
      ok,
      attempt: a.attempt,
      message: `${a.name} ${a.region} ${ok ? 'ok' : 'FAILED'}: ${message}`,
    },
    a.region,
  );
  if (a.name === 'rollback') {
    if (!ok && a.attempt < MAX_ROLLBACK_ATTEMPTS) return s.start('rollback', a.region, a.attempt + 1);
    r.rollbackLeft = r.rollbackLeft.filter((id) => id !== a.region);
    s.region(a.region, ok ? 'rolled-back' : 'rollback-failed');
    if (ok) r.regions[a.region].version = r.previousVersion ?? 'unknown';
    return nextRollback(s);
  }
  if (!ok) return rollBack(s, `${a.name} of ${r.version} in ${a.region} failed: ${message}`, false);
  if (r.abortRequested) {
    advance(s);
    return;
  }
  if (a.name === 'deploy') {
    r.regions[a.region].version = r.version;
    s.region(a.region, 'deployed');
    return nextAction(s, 'deploy', 'deployed');
  }
  s.region(a.region, 'verified');
  nextAction(s, 'verify', 'verified');
}
