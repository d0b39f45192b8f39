// The operations' one state machine, dispatched by kind. A new kind adds its
// machine to `machines` (and its kind to OperationKind in types.ts).
import type { Snapshot } from '../model.js';
import { stepMove } from './move.js';
import type {
  Machine,
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

export * from './failover.js';
export * from './move.js';
export * from './record.js';
export * from './types.js';
