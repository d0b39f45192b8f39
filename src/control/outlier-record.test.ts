import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutlierEvacuation } from '../core/outlier-moves.js';
import { recordDecision, settleEvacuations } from './outlier-record.js';
import type { ControlState, OperationRecord } from './store/index.js';

const now = 1_000_000;
const PROBE = 30_000;

const op = (extra: Partial<OperationRecord> = {}): OperationRecord => ({
  id: 'op1',
  kind: 'evacuate',
  region: 'east',
  steps: [50, 0],
  stepIntervalMs: 1000,
  fromDial: 100,
  index: 1,
  status: 'done',
  phase: 'done',
  failures: 0,
  reason: 'outlier: error rate 30 %',
  who: 'control',
  startedAt: now - 5000,
  stepAt: now - 1000,
  message: 'done: east dial 0',
  auto: true,
  ...extra,
});

const entry = (extra: Partial<OutlierEvacuation> = {}): OutlierEvacuation => ({
  region: 'east',
  at: now - 5000,
  why: 'error rate 30 %',
  fromDial: 100,
  phase: 'evacuating',
  operation: 'op1',
  ...extra,
});

function state(
  e: OutlierEvacuation,
  operation: OperationRecord | null,
  dial = 0,
  extra: Partial<ControlState> = {},
) {
  return {
    version: 1,
    snapshot: {
      regions: [
        { id: 'east', dial },
        { id: 'west', dial: 100 },
      ],
    },
    healthWhy: [],
    operation,
    outlier: { evacuated: [e], global: null, decisions: [] },
    ...extra,
  } as unknown as ControlState;
}

const cases: {
  name: string;
  draft: ControlState;
  expect: Partial<OutlierEvacuation> | null;
  taken?: string[] | null;
  stopped?: string[];
}[] = [
  {
    name: 'evacuation still running: unchanged',
    draft: state(entry(), op({ status: 'running' }), 50),
    expect: { phase: 'evacuating' },
    taken: null,
  },
  {
    name: 'evacuation done: evacuated, probed after the cool-down',
    draft: state(entry(), op()),
    expect: { phase: 'evacuated', probeAt: now + PROBE, operation: undefined },
  },
  {
    name: 'restore done: forgotten',
    draft: state(entry({ phase: 'restoring' }), op({ kind: 'restore', steps: [10, 100] }), 100),
    expect: null,
  },
  {
    name: 'a probe done at its small dial: still evacuated, judged on its traffic from there',
    draft: state(entry({ phase: 'restoring' }), op({ kind: 'restore', steps: [10] }), 10),
    expect: { phase: 'evacuated', probeAt: now + PROBE },
  },
  {
    name: 'restore aborted on gates: evacuated again, the cool-down doubled',
    draft: state(
      entry({ phase: 'restoring' }),
      op({ kind: 'restore', status: 'aborted', message: 'aborted after 3 failed gates (...)' }),
      0,
      { failedOver: [{ region: 'east', dial: 100, at: now - 5000, retryAt: now + 300_000 }] },
    ),
    expect: { phase: 'evacuated', probes: 1, probeAt: now + 2 * PROBE },
  },
  {
    name: 'evacuation aborted on gates having moved nothing: forgotten, and stopped (a cool-down before the next try)',
    draft: state(entry(), op({ status: 'aborted', message: 'aborted after 3 failed gates' }), 100),
    expect: null,
    taken: [],
    stopped: ['east'],
  },
  {
    name: 'evacuation aborted on gates at 50: evacuated as far as it went',
    draft: state(entry(), op({ status: 'aborted', message: 'aborted after 3 failed gates' }), 50),
    expect: { phase: 'evacuated' },
  },
  {
    name: 'a restore aborted on gates is not a stopped evacuation',
    draft: state(
      entry({ phase: 'restoring' }),
      op({ kind: 'restore', status: 'aborted', message: 'aborted after 3 failed gates' }),
      0,
    ),
    expect: { phase: 'evacuated' },
    stopped: [],
  },
  {
    name: "an operator's abort: forgotten, the operator's",
    draft: state(entry(), op({ status: 'aborted', message: 'aborted by ops: enough; dial stays at 50' }), 50),
    expect: null,
    taken: ['east'],
  },
  {
    name: "control's own abort of its probe (the new evacuation did not start): evacuated, not the operator's",
    draft: state(
      entry({ phase: 'restoring' }),
      op({
        kind: 'restore',
        status: 'aborted',
        message: 'aborted by control: outlier: still worse; dial stays at 10',
      }),
      10,
    ),
    expect: { phase: 'evacuated', probes: 1 },
    taken: [],
  },
  {
    name: "another operation replaced it (an operator's move superseded it): forgotten, the operator's",
    draft: state(entry(), op({ id: 'op2', auto: undefined, who: 'ops', status: 'running' }), 50),
    expect: null,
    taken: ['east'],
  },
  {
    name: 'evacuated, then an operator moved it: forgotten',
    draft: state(
      entry({ phase: 'evacuated', operation: undefined }),
      op({ id: 'op2', auto: undefined, who: 'ops', kind: 'restore', startedAt: now - 100 }),
      100,
    ),
    expect: null,
    taken: ['east'],
  },
];

for (const c of cases) {
  test(`settleEvacuations: ${c.name}`, () => {
    const settled = settleEvacuations(c.draft, now, PROBE);
    const e = c.draft.outlier!.evacuated.find((x) => x.region === 'east') ?? null;
    if (c.expect === null) assert.equal(e, null);
    else
      assert.deepEqual(
        Object.fromEntries(Object.keys(c.expect).map((k) => [k, e?.[k as keyof OutlierEvacuation]])),
        c.expect,
      );
    if (c.taken !== undefined) assert.deepEqual(settled === null ? null : settled.taken, c.taken);
    if (c.stopped !== undefined)
      assert.deepEqual(
        settled?.stopped.map((x) => x.region),
        c.stopped,
      );
  });
}

test('settleEvacuations: the failedOver mark its own aborted restore left is removed', () => {
  const draft = state(
    entry({ phase: 'restoring' }),
    op({ kind: 'restore', status: 'aborted', message: 'aborted after 3 failed gates' }),
    0,
    { failedOver: [{ region: 'east', dial: 100, at: now - 5000, retryAt: now + 300_000 }] },
  );
  settleEvacuations(draft, now, PROBE);
  assert.deepEqual(draft.failedOver, []);
});

test('recordDecision keeps the last 20 and names the audit action', () => {
  const draft = state(entry(), null);
  let last: ReturnType<typeof recordDecision> | undefined;
  for (let i = 0; i < 25; i++)
    last = recordDecision(draft, { at: i, decision: 'hold-global', why: `all bad ${i}` }, { raised: true });
  assert.equal(draft.outlier!.decisions.length, 20);
  assert.equal(draft.outlier!.decisions[0].why, 'all bad 5');
  assert.deepEqual(
    [last?.action, last?.who, last?.role, last?.details],
    ['outlier-global', 'control', 'system', { decision: 'hold-global', message: 'all bad 24', raised: true }],
  );
});
