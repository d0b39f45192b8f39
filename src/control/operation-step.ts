import type { OperationRecord } from './store/index.js';

/**
 * Whether the stored operation is still at the step `seen` was read at. A step
 * is committed only then: an instance that read the operation before another
 * one (a new leader, or the old one still finishing a write) moved it on finds
 * it changed and applies nothing, so no step runs twice and none is undone.
 */
export function atSameStep(stored: OperationRecord | null | undefined, seen: OperationRecord): boolean {
  return (
    stored?.id === seen.id &&
    stored.status === 'running' &&
    stored.index === seen.index &&
    stored.stepAt === seen.stepAt &&
    stored.failures === seen.failures
  );
}
