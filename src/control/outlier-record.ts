// Control's record of relative health (ControlState.outlier): decisions with their audit entries,
// and what becomes of an evacuated region once the operation moving it ends.
import {
  emptyOutlierState,
  OUTLIER_DECISIONS_KEPT,
  type OutlierDecision,
  type OutlierState,
  probeDelay,
} from '../core/outlier-moves.js';
import { currentDial } from './operation-plan.js';
import type { AuditEntry, ControlState, OperationRecord } from './store/index.js';

/** Who control's own outlier moves are by, in operations and the audit log. */
export const OUTLIER_ACTOR = { name: 'control', role: 'system' } as const;

const ACTIONS: Record<OutlierDecision, string> = {
  redirect: 'outlier-redirect',
  limit: 'outlier-redirect',
  restrict: 'outlier-restrict',
  'hold-global': 'outlier-global',
  restore: 'outlier-restore',
};

export function outlierOf(draft: ControlState): OutlierState {
  draft.outlier ??= emptyOutlierState();
  return draft.outlier;
}

/** Records a decision (the last OUTLIER_DECISIONS_KEPT are kept) and returns its audit entry. */
export function recordDecision(
  draft: ControlState,
  d: { at: number; decision: OutlierDecision; why: string; region?: string },
  details: Record<string, unknown> = {},
): AuditEntry {
  const o = outlierOf(draft);
  o.decisions = [...o.decisions, d].slice(-OUTLIER_DECISIONS_KEPT);
  return {
    at: d.at,
    who: OUTLIER_ACTOR.name,
    role: OUTLIER_ACTOR.role,
    action: ACTIONS[d.decision],
    ...(d.region ? { target: d.region } : {}),
    reason: d.why,
    // message: the dashboard's audit table shows it for outlier-* entries.
    details: { decision: d.decision, message: d.why, ...details },
  };
}

/** An operator's dial or move on a region ends control's automatic handling of it. */
export function forgetOutlier(draft: ControlState, region: string): boolean {
  const o = draft.outlier;
  if (!o?.evacuated.some((e) => e.region === region)) return false;
  o.evacuated = o.evacuated.filter((e) => e.region !== region);
  return true;
}

/**
 * An operator's abort, as opposed to failed gates or DOWN. Read from the message until operations
 * carry an explicit phase (issue 14, helper `machine`); an unrecognised abort is taken as gates.
 */
const abortedByOperator = (op: OperationRecord) => {
  const by = /^(?:aborted|superseded) by ([^:']+)/.exec(op.message)?.[1];
  return by !== undefined && by !== OUTLIER_ACTOR.name;
};

/**
 * Follows each evacuated region's operation to its end: evacuation done -> evacuated (with the
 * probe time); restore done -> forgotten (a probe's, short of the dial it had: evacuated); failed gates -> evacuated at the dial it backed off to
 * (a failed restore doubles the probe cool-down); an operator's abort, another operation on the
 * region, or DOWN (the automatic restore owns it then) -> forgotten. Returns the regions an
 * operator took over and the evacuations stopped by their gates (not tried again at once), or
 * null when nothing changed.
 */
export function settleEvacuations(
  draft: ControlState,
  now: number,
  probeAfterMs: number,
): { taken: string[]; stopped: { region: string; message: string }[] } | null {
  const o = draft.outlier;
  if (!o || o.evacuated.length === 0) return null;
  const op = draft.operation;
  const taken: string[] = [];
  const stopped: { region: string; message: string }[] = [];
  let changed = false;
  const keep = o.evacuated.flatMap((e) => {
    const failedOver = () => (draft.failedOver ?? []).some((f) => f.region === e.region && f.dial > 0);
    if (e.phase === 'evacuated') {
      const operatorMoved = op && !op.auto && op.region === e.region && op.startedAt > e.at;
      if (operatorMoved) taken.push(e.region);
      if (!operatorMoved && !failedOver()) return [e];
      changed = true;
      return [];
    }
    if (!op || op.id !== e.operation) {
      taken.push(e.region);
      changed = true;
      return [];
    }
    if (op.status === 'running') return [e];
    changed = true;
    // An automatic operation that gives up is remembered for the automatic restore after DOWN: not this one.
    if (draft.failedOver?.some((f) => f.region === e.region && f.at === op.startedAt))
      draft.failedOver = draft.failedOver.filter((f) => f.region !== e.region);
    if (op.status === 'aborted' && abortedByOperator(op)) {
      taken.push(e.region);
      return [];
    }
    if (failedOver()) return [];
    // A probe ends at its small dial: from there the region is judged on its traffic.
    if (op.status === 'done' && e.phase === 'restoring' && (currentDial(draft, e.region) ?? 0) >= e.fromDial)
      return [];
    if (op.status === 'aborted' && e.phase === 'evacuating')
      stopped.push({ region: e.region, message: op.message });
    const probes = (e.probes ?? 0) + (e.phase === 'restoring' && op.status === 'aborted' ? 1 : 0);
    const dial = currentDial(draft, e.region) ?? 0;
    if (e.phase === 'evacuating' && dial >= e.fromDial) return [];
    return [
      {
        ...e,
        phase: 'evacuated' as const,
        operation: undefined,
        probes,
        probeAt: now + probeDelay(probeAfterMs, probes),
      },
    ];
  });
  if (!changed) return null;
  o.evacuated = keep.map(({ operation, ...rest }) => (operation ? { ...rest, operation } : rest));
  return { taken, stopped };
}
