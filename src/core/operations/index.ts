// The operations' one state machine. Every record control steps (an
// operation, a rollout) has a machine of one shape, MachineOf:
// (record, snapshot, readings, now, settings) -> (record, dials, audit entries,
// when to step again). Operations dispatch by kind; a new kind adds its
// machine to `machines` (and its kind to OperationKind in types.ts). The
// rollout's drains and restores are operations too: embedded moves stepped by
// stepMove.
import type { Snapshot } from '../model.js';
import { stepMove } from './move.js';
import { type RolloutStep, stepRollout } from './rollout.js';
import type { RolloutPlan, RolloutReadings, RolloutRecord } from './rollout-record.js';
import type {
  Machine,
  MachineOf,
  Operation,
  OperationKind,
  OperationSettings,
  OperationStep,
  Readings,
} from './types.js';

const machines: Record<OperationKind, Machine> = {
  evacuate: stepMove,
  restore: stepMove,
};

/** (operation, snapshot, readings, now) -> (operation, dials, audit entries, when to step again). */
export function stepOperation(
  op: Operation,
  snapshot: Snapshot,
  readings: Readings,
  now: number,
  settings: OperationSettings,
): OperationStep {
  return machines[op.kind](op, snapshot, readings, now, settings);
}

/** The machines control's runners call (src/control/operations.ts, src/control/rollout/runner.ts). */
export const machinesByRecord: {
  operation: MachineOf<Operation, Readings, OperationSettings, OperationStep>;
  rollout: MachineOf<RolloutRecord, RolloutReadings, RolloutPlan, RolloutStep>;
} = { operation: stepOperation, rollout: stepRollout };

export * from './failover.js';
export * from './move.js';
export * from './record.js';
export * from './rollout.js';
export * from './types.js';
