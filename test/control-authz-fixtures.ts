// Shared by the authorization tests: the callers, sample bodies, a running
// evacuation to try to break, and what "nothing changed" means.
import assert from 'node:assert/strict';
import type { ControlServer } from '../src/control/server.js';
import { report, startTestControl, TOKENS } from './control-fixtures.js';

export const CALLERS = {
  none: undefined,
  bad: 'not-a-known-token-0123456789',
  viewer: TOKENS.viewer,
  agent: TOKENS.eastAgent,
  operator: TOKENS.operator,
  admin: TOKENS.admin,
} as const;
export type Caller = keyof typeof CALLERS;
export const ROLE_OF: Record<Caller, string | null> = {
  none: null,
  bad: null,
  viewer: 'viewer',
  agent: 'agent',
  operator: 'operator',
  admin: 'admin',
};

/** A valid body per route where we know one, so allowed calls do real work; `{}` for any other route. */
export const SAMPLE_BODIES: Record<string, () => Record<string, unknown>> = {
  'POST /v1/reports': () => report('us-east-1'),
  'PUT /v1/regions/:region/dial': () => ({ dial: 90, reason: 'authz walk' }),
  'POST /v1/operations': () => ({
    kind: 'evacuate',
    region: 'us-west-2',
    steps: [50, 0],
    stepIntervalMs: 86_400_000,
  }),
  'POST /v1/operations/:id/abort': () => ({ reason: 'authz walk' }),
};

/** A running evacuation, so refused aborts and dials are tried against something they could break. */
export async function ensureRunning(c: ControlServer): Promise<string> {
  const op = c.context.keeper.current().operation;
  if (op?.status === 'running') return op.id;
  const res = await c.app.inject({
    method: 'POST',
    url: '/v1/operations',
    headers: { authorization: `Bearer ${TOKENS.operator}` },
    payload: SAMPLE_BODIES['POST /v1/operations'](),
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().operation.id;
}

export async function stateOf(c: ControlServer) {
  const reports = (await c.context.metrics.reports.get()).values.reduce((sum, v) => sum + v.value, 0);
  return {
    state: JSON.stringify(c.context.keeper.current()),
    audit: JSON.stringify(await c.context.keeper.store.audit(1000)),
    reports,
  };
}

/** A control whose state changes only by the calls a test makes: no health ticks, probes or automatic restore. */
export async function startQuietControl(): Promise<ControlServer> {
  const control = await startTestControl();
  control.context.observer.stop();
  control.context.autoRestore.stop();
  return control;
}
