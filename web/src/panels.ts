// The text side of the dashboard: one row per region, the running operation
// with its steps and gates, and the audit log.

import { fill, h } from './dom.js';
import type { RegionJson } from './model.js';
import {
  type AuditEntry,
  canOperate,
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

function actionCell(region: string, onAction: (action: RegionAction, region: string) => void) {
  const button = (action: RegionAction, text: string) =>
    h('button', { type: 'button', 'data-action': action, onclick: () => onAction(action, region) }, text);
  return h(
    'td',
    { class: 'actions' },
    button('evacuate', 'Evacuate'),
    button('restore', 'Restore'),
    button('dial', 'Set dial…'),
  );
}

/**
 * Updates the rows in place. The action buttons are made once per region and
 * never detached, so keyboard focus on them survives the updates every second.
 */
export function renderRegions(
  tbody: HTMLElement,
  rows: RegionRow[],
  operator: boolean,
  onAction: (action: RegionAction, region: string) => void,
  maxLoad: number,
) {
  const existing = new Map([...tbody.querySelectorAll('tr')].map((tr) => [tr.dataset.region ?? '', tr]));
  const wanted = new Set(rows.map((r) => r.region.id));
  for (const [id, tr] of existing) if (!wanted.has(id)) tr.remove();
  for (const [i, row] of rows.entries()) {
    const r = row.region;
    let tr = existing.get(r.id);
    if (!tr) {
      tr = h('tr', { 'data-region': r.id });
      if (operator) tr.append(actionCell(r.id, onAction));
    }
    // Moving a node blurs what is focused in it: only move rows that are out of place.
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
    const actions = tr.querySelector<HTMLElement>('td.actions');
    while (tr.firstChild && tr.firstChild !== actions) tr.firstChild.remove();
    if (actions) {
      actions.before(...regionCells(row, maxLoad));
      for (const b of actions.querySelectorAll<HTMLButtonElement>('button')) {
        b.disabled =
          (b.dataset.action === 'evacuate' && r.dial === 0) ||
          (b.dataset.action === 'restore' && r.dial === 100);
      }
    } else tr.append(...regionCells(row, maxLoad));
  }
}

function regionCells({ region: r, colour, status, sample, share }: RegionRow, maxLoad: number) {
  const load = sample?.load ?? r.load;
  const capacity = sample?.capacity || r.capacity;
  const util = capacity > 0 ? load / capacity : 0;
  const lag = sample?.replicationLagMs;
  return [
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
  ];
}

export function renderOperation(
  el: HTMLElement,
  op: Operation | null,
  samples: Map<string, RegionSample>,
  regions: string[],
  session: Session,
  onAbort: (op: Operation) => void,
) {
  // The body is redrawn; an operator's abort button stays (hidden when idle) so focus on it survives.
  let body = el.querySelector<HTMLElement>('.op-body');
  if (!body) {
    body = h('div', { class: 'op-body' });
    el.replaceChildren(body);
    if (canOperate(session))
      el.append(h('button', { type: 'button', class: 'danger', 'data-action': 'abort' }, 'Abort operation'));
  }
  const abort = el.querySelector<HTMLButtonElement>('button[data-action="abort"]');
  if (abort) {
    abort.hidden = op?.status !== 'running';
    abort.onclick = () => op && onAbort(op);
  }
  if (!op) {
    fill(body, h('p', { class: 'muted' }, 'No evacuation or restore yet.'));
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
    body,
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
  );
}

function detailText(e: AuditEntry): string {
  const d = e.details ?? {};
  if (e.action === 'health') return `${d.from} → ${d.to}`;
  if (e.action === 'dial') return `dial ${d.from} → ${d.to}`;
  // Rollout and outlier entries say what happened in their message (their steps carry no single dial).
  if (/^(rollout|outlier)-/.test(e.action)) return String(d.message ?? d.why ?? '');
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
