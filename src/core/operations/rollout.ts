// The staged rollout as a pure state machine: (rollout, input, plan) -> the
// next rollout, the dials to set, the actions to run and the audit entries.
// Control's runner commits the result in one change and runs the actions;
// an action's result comes back into the record (withActionResult) and the
// next step takes it up. Phases per wave:
//   drain:    draining (steps through the gates) -> deploying -> verifying ->
//             canary (first ramp dial, bake, judge) -> baking (each further dial, bake, judge)
//   in-place: deploying -> verifying -> baking (bake, judge)
// then between-waves, or done. A failed judgement, action or drain, or an
// abort: rolling-back (rollback for every region reached, newest first) ->
// restoring (dials back to where they were, stepwise) -> rolled-back/aborted.
import { type CanarySample, judgeCanary } from '../canary.js';
import { checkGates } from '../evacuation-plan.js';
import type {
  RolloutAction,
  RolloutActionName,
  RolloutInput,
  RolloutPhase,
  RolloutPlan,
  RolloutRecord,
} from './rollout-record.js';

export * from './rollout-record.js';

export interface RolloutAuditEntry {
  action: 'rollout-step' | 'rollout-judgement' | 'rollout-rollback' | 'rollout-done' | 'rollout-abort';
  target?: string;
  details: Record<string, unknown>;
}

export interface RolloutStep {
  rollout: RolloutRecord;
  /** Dials to set, region -> dial. */
  dials: Map<string, number>;
  /** Actions to start now (already recorded as the rollout's running action). */
  actions: RolloutAction[];
  audit: RolloutAuditEntry[];
  /** False when nothing changed: no commit needed. */
  changed: boolean;
}

/** The canary ramp for a region: the plan's steps below where it was, then where it was. */
export function rampSteps(steps: readonly number[], dialBefore: number): number[] {
  return [...steps.filter((s) => s < dialBefore), dialBefore];
}

const MAX_ROLLBACK_ATTEMPTS = 3;
const JUDGEMENTS_KEPT = 50;

class Step {
  readonly dials = new Map<string, number>();
  readonly actions: RolloutAction[] = [];
  readonly audit: RolloutAuditEntry[] = [];
  changed = false;

  constructor(
    readonly r: RolloutRecord,
    readonly input: RolloutInput,
    readonly plan: RolloutPlan,
  ) {}

  get now() {
    return this.input.now;
  }
  get wave() {
    return this.r.waves[this.r.waveIndex];
  }

  dialOf(id: string): number {
    return this.dials.get(id) ?? this.input.regions.find((x) => x.id === id)?.dial ?? 0;
  }

  setDial(id: string, dial: number) {
    if (this.dialOf(id) === dial) return;
    this.dials.set(id, dial);
    this.changed = true;
  }

  phase(phase: RolloutPhase, message: string, details: Record<string, unknown> = {}) {
    Object.assign(this.r, { phase, phaseAt: this.now, step: 0, gateFailures: 0, message });
    this.note('rollout-step', { phase, message, ...details });
  }

  note(action: RolloutAuditEntry['action'], details: Record<string, unknown>, target?: string) {
    this.audit.push({ action, ...(target ? { target } : {}), details: { rollout: this.r.id, ...details } });
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
}

export function stepRollout(rollout: RolloutRecord, input: RolloutInput, plan: RolloutPlan): RolloutStep {
  const s = new Step(structuredClone(rollout), input, plan);
  if (s.r.status === 'running') advance(s);
  if (s.changed) s.r.updatedAt = input.now;
  return { rollout: s.r, dials: s.dials, actions: s.actions, audit: s.audit, changed: s.changed };
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
  if (wave.strategy === 'in-place' || !needsDrain(s)) {
    s.phase('deploying', `${label}: deploying ${r.version}`, { wave: r.waveIndex });
    return nextAction(s, 'deploy', 'deployed');
  }
  s.phase('draining', `${label}: draining`, { wave: r.waveIndex });
  applyDrainStep(s);
}

const needsDrain = (s: Step) =>
  s.wave.regions.some((id) => s.dialOf(id) > Math.min(s.dialOf(id), s.plan.drainSteps.at(-1)!));

function applyDrainStep(s: Step) {
  const dial = s.plan.drainSteps[s.r.step];
  for (const id of s.wave.regions) {
    s.setDial(id, Math.min(s.r.regions[id].dialBefore, dial));
    s.region(id, 'draining');
  }
  s.r.phaseAt = s.now;
  s.note('rollout-step', { phase: 'draining', dial, step: s.r.step, message: `draining: dial ${dial}` });
}

/** Receivers of a drain: regions outside the wave and not DOWN. */
const receivers = (s: Step) =>
  s.input.regions.filter((x) => !s.wave.regions.includes(x.id) && x.health !== 'DOWN').map((x) => x.id);

function drain(s: Step) {
  const { r, plan } = s;
  if (s.now - r.phaseAt < plan.drainIntervalMs) return;
  const failures = checkGates(receivers(s), s.input.readings, plan.gates);
  if (failures.length > 0) {
    r.gateFailures++;
    s.changed = true;
    if (r.gateFailures >= plan.maxGateFailures)
      return rollBack(
        s,
        `gates failed ${r.gateFailures} times while draining: ${failures.join('; ')}`,
        false,
      );
    r.phaseAt = s.now;
    s.note('rollout-step', { phase: 'draining', message: `gate failed (${failures.join('; ')}); holding` });
    return;
  }
  if (r.step + 1 < plan.drainSteps.length) {
    r.step++;
    r.gateFailures = 0;
    return applyDrainStep(s);
  }
  s.phase('deploying', `drained; deploying ${r.version}`);
  nextAction(s, 'deploy', 'deployed');
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
    (s.input.samples.get(id) ?? []).filter((x) => x.at >= s.r.phaseAt && x.at <= s.now),
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
  const baselineIds = s.input.regions
    .filter((x) => !wave.includes(x.id) && x.health !== 'DOWN')
    .map((x) => x.id);
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
  // The failing wave's drained regions stop taking traffic at once: its users are served elsewhere meanwhile.
  if (r.waveIndex >= 0 && s.wave.strategy === 'drain') {
    const floor = s.plan.drainSteps.at(-1)!;
    for (const id of s.wave.regions) if (s.dialOf(id) > floor) s.setDial(id, floor);
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
  restore(s);
}

/** Regions whose dial the rollout moved: every region of the waves it started. */
const touched = (s: Step) => s.r.waves.slice(0, Math.max(0, s.r.waveIndex + 1)).flatMap((w) => w.regions);

function restore(s: Step) {
  const { r, plan } = s;
  if (r.step > 0 && s.now - r.phaseAt < plan.drainIntervalMs) return;
  const moves: Record<string, number> = {};
  for (const id of touched(s)) {
    const target = r.regions[id].dialBefore;
    const dial = s.dialOf(id);
    if (dial === target) continue;
    const next = dial > target ? target : rampSteps(plan.canarySteps, target).find((x) => x > dial)!;
    moves[id] = next;
    s.setDial(id, next);
  }
  if (Object.keys(moves).length > 0) {
    r.step++;
    r.phaseAt = s.now;
    s.note('rollout-step', {
      phase: 'restoring',
      dials: moves,
      message: `restoring dials ${JSON.stringify(moves)}`,
    });
    return;
  }
  const aborted = r.failure?.aborted === true;
  r.status = aborted ? 'aborted' : 'rolled-back';
  const failed = Object.entries(r.regions)
    .filter(([, x]) => x.phase === 'rollback-failed')
    .map(([id]) => id);
  const message = `${r.status}: ${r.failure?.why ?? ''}${failed.length ? `; rollback FAILED in ${failed.join(', ')}` : ''}`;
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
