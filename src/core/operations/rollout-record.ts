// The rollout record control keeps in its state (ControlState.rollout), and
// the operator's commands on it. Pure: time is an argument.
import type { CanarySample, CanaryThresholds, MetricJudgement } from '../canary.js';
import type { GateLimits } from '../evacuation-plan.js';
import type { Operation, Readings } from './types.js';

export type RolloutStatus = 'running' | 'paused' | 'done' | 'rolled-back' | 'aborted';
export type RolloutPhase =
  | 'draining'
  | 'deploying'
  | 'verifying'
  | 'canary'
  | 'baking'
  | 'between-waves'
  | 'rolling-back'
  | 'restoring'
  | 'done';
export type RolloutActionName = 'deploy' | 'rollback' | 'verify';

export interface RolloutWavePlan {
  regions: string[];
  strategy: 'drain' | 'in-place';
}

/** An action the rollout started; `result` is set by whoever ran it, then the machine moves on. */
export interface RolloutAction {
  id: string;
  name: RolloutActionName;
  region: string;
  startedAt: number;
  /** 1 for the first try; a failed rollback is tried up to three times. */
  attempt: number;
  result?: { ok: boolean; message: string; at: number };
}

export interface RolloutJudgement {
  at: number;
  region: string;
  dial: number;
  pass: boolean;
  why: string;
  metrics: (Omit<MetricJudgement, 'name'> & { name: string })[];
}

export interface RolloutRegion {
  version: string;
  /** waiting, draining, deploying, deployed, verifying, verified, canary, baking, done, rolling-back, rolled-back, rollback-failed. */
  phase: string;
  /** The dial when its wave started: where the ramp and a rollback's restore bring it back to. */
  dialBefore: number;
}

export interface RolloutRecord {
  id: string;
  version: string;
  previousVersion: string | null;
  status: RolloutStatus;
  phase: RolloutPhase;
  waves: RolloutWavePlan[];
  waveIndex: number;
  regions: Record<string, RolloutRegion>;
  /** Regions whose deploy action was started. */
  regionsReached: string[];
  judgements: RolloutJudgement[];
  startedAt: number;
  updatedAt: number;
  /** When the phase (or its current step) began: bakes and intervals count from here. */
  phaseAt: number;
  message: string;
  who: string;
  /** Index of the current ramp step (canary, baking). */
  step: number;
  /**
   * The move (an evacuation or a restore of one region, the operations' own
   * machine: gates, back-off, abort) that drains a region before its deploy or
   * brings its dial back after a rollback; null between moves. Records written
   * before it existed have none: the phase's next move starts from the dials.
   */
  move?: Operation | null;
  /** While restoring: regions whose dial is still to be brought back, next first. */
  restoreLeft?: string[];
  /** The action running (or finished and not yet taken into account); one at a time. */
  action: RolloutAction | null;
  /** Regions still to roll back, next first. */
  rollbackLeft: string[];
  /** Set once the rollout rolls back: why, and whether an operator's abort asked for it. */
  failure: { why: string; aborted: boolean } | null;
  /** An operator asked for an abort; taken up once the running action finished. */
  abortRequested: { who: string; reason: string; at: number } | null;
}

/** The plan's numbers, from config (rollout.canary, rollout.drain, control.gates). */
export interface RolloutPlan {
  canarySteps: number[];
  bakeMs: number;
  betweenWavesMs: number;
  minSamples: number;
  thresholds: CanaryThresholds;
  drainSteps: number[];
  drainIntervalMs: number;
  maxGateFailures: number;
  gates: GateLimits;
  /** A verify action is configured. */
  verify: boolean;
}

/** What the machine reads besides the snapshot. */
export interface RolloutReadings {
  /** Fresh gate readings per region (the moves' gates). */
  gates: Readings;
  /** Recent readings per region (one per edge report), oldest first (the canary's judgements). */
  samples: ReadonlyMap<string, readonly CanarySample[]>;
}

export const isActive = (r: RolloutRecord | null | undefined): r is RolloutRecord =>
  r?.status === 'running' || r?.status === 'paused';

/**
 * Regions whose dials the running rollout is moving now (its current wave, or
 * every region it moved while it rolls back): automatic moves (outlier
 * evacuation) leave them to the rollout, which judges and rolls back itself.
 */
export function regionsInRollout(r: RolloutRecord | null | undefined): string[] {
  if (!isActive(r) || r.waveIndex < 0) return [];
  if (r.failure) return r.waves.slice(0, r.waveIndex + 1).flatMap((w) => w.regions);
  return r.waves[r.waveIndex].regions;
}

export function newRollout(a: {
  id: string;
  version: string;
  previousVersion: string | null;
  waves: RolloutWavePlan[];
  dials: ReadonlyMap<string, number>;
  who: string;
  now: number;
}): RolloutRecord {
  const regions: Record<string, RolloutRegion> = {};
  // Defined, not assigned: a region named __proto__ is an ordinary key.
  for (const w of a.waves)
    for (const id of w.regions)
      Object.defineProperty(regions, id, {
        value: {
          version: a.previousVersion ?? 'unknown',
          phase: 'waiting',
          dialBefore: a.dials.get(id) ?? 100,
        },
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return {
    id: a.id,
    version: a.version,
    previousVersion: a.previousVersion,
    status: 'running',
    phase: 'between-waves',
    waves: a.waves,
    waveIndex: -1,
    regions,
    regionsReached: [],
    judgements: [],
    startedAt: a.now,
    updatedAt: a.now,
    phaseAt: a.now,
    message: 'starting',
    who: a.who,
    step: 0,
    move: null,
    restoreLeft: [],
    action: null,
    rollbackLeft: [],
    failure: null,
    abortRequested: null,
  };
}

export function pauseRollout(r: RolloutRecord, who: string, now: number): RolloutRecord {
  if (r.status !== 'running') throw new RangeError(`rollout ${r.id} is ${r.status}, not running`);
  if (r.failure) throw new RangeError(`rollout ${r.id} is rolling back; it cannot be paused`);
  return { ...r, status: 'paused', updatedAt: now, message: `paused by ${who} (${r.phase}): ${r.message}` };
}

/** Back to running; a bake or wait starts over, so a judgement never spans the pause. */
export function resumeRollout(r: RolloutRecord, who: string, now: number): RolloutRecord {
  if (r.status !== 'paused') throw new RangeError(`rollout ${r.id} is ${r.status}, not paused`);
  const restart = r.phase === 'canary' || r.phase === 'baking' || r.phase === 'between-waves';
  return {
    ...r,
    status: 'running',
    updatedAt: now,
    ...(restart ? { phaseAt: now } : {}),
    message: `resumed by ${who} (${r.phase})`,
  };
}

export function requestAbort(r: RolloutRecord, who: string, reason: string, now: number): RolloutRecord {
  if (r.status !== 'running' && r.status !== 'paused')
    throw new RangeError(`rollout ${r.id} is already ${r.status}`);
  if (r.failure || r.abortRequested) throw new RangeError(`rollout ${r.id} is already rolling back`);
  return {
    ...r,
    status: 'running',
    updatedAt: now,
    abortRequested: { who, reason, at: now },
    message: `abort requested by ${who}${reason ? `: ${reason}` : ''}`,
  };
}

/** Records how the running action ended; false when it is no longer the running one. */
export function withActionResult(
  r: RolloutRecord,
  actionId: string,
  result: { ok: boolean; message: string },
  now: number,
): RolloutRecord | null {
  if (r.action?.id !== actionId || r.action.result) return null;
  return { ...r, updatedAt: now, action: { ...r.action, result: { ...result, at: now } } };
}
