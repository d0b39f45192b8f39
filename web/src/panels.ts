// The text side of the dashboard: one row per region, the running operation
// with its steps and gates, and the audit log.

import { fill, h } from './dom.js';
import type { RegionJson } from './model.js';
import {
  type AuditEntry,
  HEALTH_COLOUR,
  num,
  type Operation,
  pct,
  type RegionSample,
  type Session,
  type StatusRegion,
  time,
} from './model.js';

export interface RegionRow {
  region: RegionJson;
  colour: string;
  status: StatusRegion | undefined;
  sample: RegionSample | undefined;
  share: number;
}

export type RegionAction = 'evacuate' | 'restore' | 'dial';

function bar(fraction: number, label: string, warn: boolean) {
  const width = Math.max(0, Math.min(1, fraction)) * 100;
  return h(
    'span',
    { class: `bar${warn ? ' warn' : ''}`, role: 'img', 'aria-label': label, title: label },
    h('span', { class: 'bar-fill', style: `width:${width.toFixed(1)}%` }),
  );
}

export function renderRegions(
  tbody: HTMLElement,
  rows: RegionRow[],
  operator: boolean,
  onAction: (action: RegionAction, region: string) => void,
  maxLoad: number,
) {
  fill(
    tbody,
    ...rows.map(({ region: r, colour, status, sample, share }) => {
      const load = sample?.load ?? r.load;
      const capacity = sample?.capacity || r.capacity;
      const util = capacity > 0 ? load / capacity : 0;
      const lag = sample?.replicationLagMs;
      return h(
        'tr',
        { 'data-region': r.id },
        h(
          'th',
          { scope: 'row' },
          h('span', { class: 'swatch', style: `background:${colour}` }),
          h('span', { class: 'rid' }, r.id),
          h('small', {}, r.name),
        ),
        h(
          'td',
          {},
          h(
            'span',
            { class: 'health', style: `--c:${HEALTH_COLOUR[r.health]}`, 'data-health': r.health },
            r.health,
          ),
          status?.pending ? h('small', {}, `→ ${status.pending} pending`) : null,
          status?.why ? h('small', { class: 'why' }, status.why) : null,
        ),
        h(
          'td',
          { class: 'num', 'data-col': 'dial' },
          `${r.dial} %`,
          bar(r.dial / 100, `dial ${r.dial} %`, false),
        ),
        h(
          'td',
          { class: 'num', 'data-col': 'load' },
          `${num(load)} / ${num(capacity)}`,
          bar(util, `load ${pct(util)} of capacity`, util >= maxLoad),
        ),
        h('td', { class: 'num', 'data-col': 'share' }, pct(share)),
        h('td', { class: 'num' }, sample ? num(sample.requestsPerS) : '–'),
        h('td', { class: 'num' }, sample ? pct(sample.errorRate, 1) : '–'),
        h('td', { class: 'num' }, sample ? `${num(sample.p99Ms)} ms` : '–'),
        h('td', { class: 'num' }, lag === null || lag === undefined ? '–' : `${num(lag)} ms`),
        operator
          ? h(
              'td',
              { class: 'actions' },
              h(
                'button',
                {
                  type: 'button',
                  'data-action': 'evacuate',
                  disabled: r.dial === 0,
                  onclick: () => onAction('evacuate', r.id),
                },
                'Evacuate',
              ),
              h(
                'button',
                {
                  type: 'button',
                  'data-action': 'restore',
                  disabled: r.dial === 100,
                  onclick: () => onAction('restore', r.id),
                },
                'Restore',
              ),
              h(
                'button',
                { type: 'button', 'data-action': 'dial', onclick: () => onAction('dial', r.id) },
                'Set dial…',
              ),
            )
          : null,
      );
    }),
  );
}

export function renderOperation(
  el: HTMLElement,
  op: Operation | null,
  samples: Map<string, RegionSample>,
  regions: string[],
  session: Session,
  onAbort: (op: Operation) => void,
) {
  if (!op) {
    fill(el, h('p', { class: 'muted' }, 'No evacuation or restore yet.'));
    return;
  }
  const steps = h(
    'ol',
    { class: 'steps' },
    ...op.steps.map((dial, i) => {
      const state = op.status === 'done' || i < op.index ? 'done' : i === op.index ? 'current' : 'pending';
      return h(
        'li',
        { class: state, 'aria-current': state === 'current' ? 'step' : undefined },
        `dial ${dial} %`,
      );
    }),
  );
  const receivers = op.kind === 'evacuate' ? regions.filter((id) => id !== op.region) : [op.region];
  const g = session.gates;
  const gate = (ok: boolean, text: string) =>
    h('li', { class: ok ? 'pass' : 'fail' }, `${ok ? '✓' : '✗'} ${text}`);
  const gates = h(
    'ul',
    { class: 'gates' },
    ...receivers.flatMap((id) => {
      const s = samples.get(id);
      if (!s) return [gate(false, `${id}: no recent report`)];
      return [
        gate(s.errorRate <= g.errorRate, `${id} error rate ${pct(s.errorRate, 1)} ≤ ${pct(g.errorRate, 1)}`),
        gate(s.p99Ms <= g.p99Ms, `${id} p99 ${num(s.p99Ms)} ms ≤ ${g.p99Ms} ms`),
        gate(
          s.capacity <= 0 || s.load < g.maxLoad * s.capacity,
          `${id} load ${num(s.load)} < ${pct(g.maxLoad)} of ${num(s.capacity)}`,
        ),
      ];
    }),
  );
  fill(
    el,
    h(
      'p',
      {},
      h('strong', {}, `${op.kind} ${op.region}`),
      ` · ${op.status} · by ${op.who}`,
      op.reason ? ` · “${op.reason}”` : '',
      ` · started ${time(op.startedAt)} · step every ${Math.round(op.stepIntervalMs / 1000)} s`,
      op.failures ? ` · ${op.failures} failed gate(s)` : '',
    ),
    steps,
    h('p', { class: 'message', 'data-status': op.status }, op.message),
    op.status === 'running' ? h('h3', {}, 'Gates in the receiving regions (now)') : null,
    op.status === 'running' ? gates : null,
    op.status === 'running' && session.role === 'operator'
      ? h(
          'button',
          { type: 'button', class: 'danger', 'data-action': 'abort', onclick: () => onAbort(op) },
          'Abort operation',
        )
      : null,
  );
}

function detailText(e: AuditEntry): string {
  const d = e.details ?? {};
  if (e.action === 'health') return `${d.from} → ${d.to}`;
  if (e.action === 'dial') return `dial ${d.from} → ${d.to}`;
  if (e.action.endsWith('-step')) return `dial ${d.dial}: ${d.message ?? ''}`;
  if (e.action === 'evacuate' || e.action === 'restore')
    return `steps ${(d.steps as number[] | undefined)?.join(', ') ?? ''}; moves ${d.moved} req/s`;
  return typeof d.message === 'string' ? d.message : '';
}

export function renderAudit(tbody: HTMLElement, entries: AuditEntry[]) {
  fill(
    tbody,
    ...entries.map((e) =>
      h(
        'tr',
        {},
        h('td', { class: 'num' }, time(e.at)),
        h('td', {}, e.who, h('small', {}, e.role)),
        h('td', {}, e.action),
        h('td', {}, e.target ?? ''),
        h('td', {}, e.reason ?? ''),
        h('td', {}, detailText(e)),
      ),
    ),
  );
}
