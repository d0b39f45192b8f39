// Operator actions: evacuate, restore and set a dial. Each first shows the plan
// (control's dry run: projected load of every region at every step); only then
// can it be confirmed.
import { type Api, ApiError, type MoveBody } from './api.js';
import { fill, h } from './dom.js';
import { type MovePlan, num, pct, type RegionJson } from './model.js';
import type { RegionAction } from './panels.js';

export interface ActionContext {
  api: Api;
  regions: () => RegionJson[];
  maxLoad: number;
  onDone: (message: string) => void;
}

function defaultSteps(action: 'evacuate' | 'restore', dial: number): string {
  const all = action === 'evacuate' ? [75, 50, 25, 0] : [25, 50, 75, 100];
  const steps = all.filter((s) => (action === 'evacuate' ? s < dial : s > dial));
  return steps.join(',');
}

function planTable(plan: MovePlan, regions: RegionJson[], maxLoad: number) {
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'Region'),
    h('th', { scope: 'col' }, 'Now (reported)'),
    ...plan.steps.map((s) => h('th', { scope: 'col' }, `${plan.region} at ${s.dial} %`)),
  );
  const rows = regions.map((r) =>
    h(
      'tr',
      { 'data-region': r.id },
      h('th', { scope: 'row' }, r.id),
      h('td', { class: 'num' }, `${num(r.load)} / ${num(r.capacity)}`),
      ...plan.steps.map((s) => {
        const p = s.regions.find((x) => x.region === r.id);
        if (!p) return h('td', {}, '–');
        const over = p.utilization >= maxLoad;
        return h(
          'td',
          { class: `num${over ? ' over' : ''}` },
          `${num(p.load)} / ${num(p.capacity)} (${pct(p.utilization)})`,
        );
      }),
    ),
  );
  const overflow = plan.steps.some((s) => s.overflow > 0)
    ? h(
        'p',
        { class: 'fail' },
        `Overflow (nobody has headroom): ${plan.steps.map((s) => num(s.overflow)).join(' → ')} req/s`,
      )
    : null;
  return h(
    'div',
    { class: 'plan', 'data-ok': String(plan.ok) },
    h(
      'table',
      {},
      h('caption', {}, 'Projected load per region (req/s)'),
      h('thead', {}, head),
      h('tbody', {}, ...rows),
    ),
    overflow,
    h(
      'p',
      { class: plan.ok ? 'pass' : 'fail' },
      `Moves ${num(plan.moved)} req/s; receivers (${plan.receivers.join(', ') || 'none'}) have ${num(plan.headroom)} req/s of headroom; ` +
        `${num(plan.needed)} needed with margin. ${plan.ok ? 'Headroom is enough.' : 'Not enough headroom: control will refuse unless a scale-up webhook is configured.'}`,
    ),
  );
}

export function openAction(ctx: ActionContext, action: RegionAction, regionId: string) {
  const region = ctx.regions().find((r) => r.id === regionId);
  if (!region) return;
  const isDial = action === 'dial';
  const steps = h('input', {
    name: 'steps',
    required: true,
    value: isDial ? '' : defaultSteps(action, region.dial),
    pattern: '\\s*\\d{1,3}(\\s*,\\s*\\d{1,3})*\\s*',
    inputmode: 'numeric',
  });
  const interval = h('input', {
    name: 'interval',
    type: 'number',
    min: 0,
    max: 86400,
    value: 30,
    required: true,
  });
  const dial = h('input', {
    name: 'dial',
    type: 'number',
    min: 0,
    max: 100,
    required: true,
    value: region.dial,
  });
  const reason = h('input', { name: 'reason', maxlength: 500, placeholder: 'why (goes into the audit log)' });
  const planBox = h('div', { class: 'plan-box', 'aria-live': 'polite' });
  const confirm = h(
    'button',
    { type: 'button', class: 'danger', 'data-action': 'confirm', disabled: true },
    isDial ? `Set ${regionId} dial` : `Confirm ${action} ${regionId}`,
  );
  const cancel = h('button', { type: 'button', 'data-action': 'cancel' }, 'Cancel');
  const show = h('button', { type: 'submit', 'data-action': 'plan' }, 'Show plan');
  const field = (label: string, input: HTMLElement, hint = '') =>
    h('label', {}, label, input, hint ? h('small', {}, hint) : null);
  const form = h(
    'form',
    { method: 'dialog' },
    h(
      'h2',
      {},
      isDial
        ? `Set the dial of ${regionId}`
        : `${action === 'evacuate' ? 'Evacuate' : 'Restore'} ${regionId}`,
    ),
    h(
      'p',
      { class: 'muted' },
      `${region.name}: dial ${region.dial} %, ${region.health}, load ${num(region.load)} of ${num(region.capacity)} req/s.`,
    ),
    isDial
      ? field(
          'New dial (0-100 %)',
          dial,
          'the share of its home users the region keeps; applied at once, no gates',
        )
      : h(
          'div',
          { class: 'row' },
          field('Steps (dial %, in order)', steps),
          field('Seconds between steps', interval),
        ),
    field('Reason', reason),
    h('div', { class: 'buttons' }, show, confirm, cancel),
    planBox,
  );
  const dialog = h('dialog', { class: 'action-dialog', 'aria-label': isDial ? 'Set dial' : action }, form);
  document.body.append(dialog);
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  cancel.addEventListener('click', close);
  dialog.addEventListener('close', () => dialog.remove());
  for (const input of [steps, interval, dial])
    input.addEventListener('input', () => (confirm.disabled = true));

  let body: MoveBody | null = null;
  const target = () => Math.round(Number(dial.value));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    confirm.disabled = true;
    if (isDial) {
      const to = target();
      body = { kind: to < region.dial ? 'evacuate' : 'restore', region: regionId, steps: [to] };
    } else {
      const list = steps.value.split(',').map((s) => Number(s.trim()));
      body = {
        kind: action,
        region: regionId,
        steps: list,
        stepIntervalMs: Number(interval.value) * 1000,
        reason: reason.value,
      };
    }
    fill(planBox, h('p', { class: 'muted' }, 'Asking control for the plan…'));
    try {
      const { plan } = await ctx.api.move({ ...body, dryRun: true });
      fill(planBox, planTable(plan, ctx.regions(), ctx.maxLoad));
      confirm.disabled = false;
      confirm.focus();
    } catch (err) {
      fill(planBox, errorBox(err));
    }
  });
  confirm.addEventListener('click', async () => {
    if (!body) return;
    confirm.disabled = true;
    try {
      if (isDial) {
        await ctx.api.setDial(regionId, target(), reason.value);
        ctx.onDone(`${regionId} dial set to ${target()} %`);
      } else {
        const { operation } = await ctx.api.move({ ...body, reason: reason.value });
        ctx.onDone(`${action} ${regionId} started (operation ${operation?.id ?? '?'})`);
      }
      close();
    } catch (err) {
      planBox.append(errorBox(err));
    }
  });
  dialog.showModal();
  (isDial ? dial : steps).focus();
}

export function errorBox(err: unknown) {
  const e = err instanceof ApiError ? err : null;
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', {}, e ? `${e.code}: ${e.message}` : String((err as Error)?.message ?? err)),
    e?.details.length ? h('ul', {}, ...e.details.map((d) => h('li', {}, d))) : null,
  );
}
