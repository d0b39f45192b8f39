import type { Command } from 'commander';
import type { ReplicationCheck } from '../control/operation-plan.js';
import type { OperationRecord } from '../control/store/index.js';
import type { MovePlan } from '../core/evacuation-plan.js';
import { MeridianError } from '../errors.js';
import { action, jsonOption, table } from './index-helpers.js';
import { type ControlOpts, clientFor, controlOptions } from './status.js';

interface MoveOpts extends ControlOpts {
  steps?: string;
  stepInterval: string;
  dryRun?: boolean;
  reason: string;
  wait: boolean;
}

export function formatPlan(plan: MovePlan): string {
  const ids = plan.steps[0]?.regions.map((r) => r.region) ?? [];
  const rows = plan.steps.map((s, i) => [
    `${i + 1}`,
    `${plan.region} ${s.dial} %`,
    ...s.regions.map((r) => `${Math.round(r.load)}/${r.capacity} (${Math.round(r.utilization * 100)} %)`),
    `${Math.round(s.overflow)}`,
  ]);
  const verdict = plan.ok
    ? `headroom ${plan.headroom} req/s covers ${plan.moved} req/s moved (needs ${plan.needed} with margin)`
    : `NOT ENOUGH HEADROOM: ${plan.headroom} req/s free, ${plan.needed} req/s needed to move ${plan.moved}`;
  return [
    `${plan.kind} ${plan.region} from dial ${plan.fromDial} %: projected load (req/s) at each step`,
    table([['step', 'dial', ...ids, 'overflow'], ...rows]),
    verdict,
  ].join('\n');
}

/** The RPO pre-check's numbers, one line per receiving region; nothing when no RPO is configured. */
export function formatReplication(check: ReplicationCheck | null): string {
  if (!check) return '';
  return check.regions.map((r) => `${r.ok ? 'ok' : 'REFUSED'}: ${r.reason}\n`).join('');
}

function bar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Starts the operation, then shows it as it happens until it is done or aborted. */
async function move(kind: 'evacuate' | 'restore', region: string, opts: MoveOpts) {
  const { parseSteps } = await import('../core/evacuation-plan.js');
  const { duration } = await import('../config/schema/common.js');
  const steps = opts.steps === undefined ? undefined : parseSteps(opts.steps);
  if (steps === null)
    throw new MeridianError(
      'BAD_ARGUMENT',
      `--steps expects percents such as 75,50,25,0, got "${opts.steps}"`,
    );
  const parsed = duration.safeParse(opts.stepInterval);
  if (!parsed.success)
    throw new MeridianError(
      'BAD_ARGUMENT',
      `--step-interval expects a duration such as 30s, got "${opts.stepInterval}"`,
    );
  const client = await clientFor(opts);
  const result = await client.call<{
    plan: MovePlan;
    operation: OperationRecord | null;
    replication?: ReplicationCheck | null;
  }>('POST', '/v1/operations', {
    kind,
    region,
    ...(steps ? { steps } : {}),
    stepIntervalMs: parsed.data,
    reason: opts.reason,
    dryRun: Boolean(opts.dryRun),
  });
  const line = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const replication = result.replication ?? null;
  if (opts.json) line({ event: 'plan', plan: result.plan, replication });
  else process.stdout.write(`${formatPlan(result.plan)}\n${formatReplication(replication)}`);
  const op = result.operation;
  if (!op || !opts.wait) {
    if (op && !opts.json)
      process.stdout.write(`operation ${op.id} started; follow it with meridian status\n`);
    if (op && opts.json) line({ event: 'started', operation: op });
    return;
  }
  const tty = process.stdout.isTTY && !opts.json;
  let last = '';
  let lastIndex = -1;
  const show = (o: OperationRecord, index: number, status: string, message: string) => {
    const dial = index >= 0 ? o.steps[index] : o.fromDial;
    if (opts.json) {
      line({
        event: 'progress',
        at: Date.now(),
        status,
        step: index + 1,
        steps: o.steps.length,
        dial,
        failures: o.failures,
        message,
      });
    } else if (tty) {
      process.stdout.write(`\r\x1b[2K${bar(index + 1, o.steps.length)} ${region} dial ${dial} %  ${message}`);
    } else
      process.stdout.write(`step ${index + 1}/${o.steps.length}: ${region} dial ${dial} %: ${message}\n`);
  };
  for (;;) {
    const { operation } = await client.call<{ operation: OperationRecord | null }>(
      'GET',
      '/v1/operations/current',
    );
    if (!operation || operation.id !== op.id)
      throw new MeridianError('CONFLICT', `operation ${op.id} was replaced`);
    const key = `${operation.index}|${operation.status}|${operation.message}`;
    if (key !== last) {
      last = key;
      // Polling can miss a step that came and went between two polls: show every step passed, in order.
      const through = operation.status === 'running' ? operation.index - 1 : operation.index;
      for (let k = lastIndex + 1; k <= through; k++) show(operation, k, 'running', `step ${k + 1} applied`);
      show(operation, operation.index, operation.status, operation.message);
      lastIndex = operation.index;
    }
    if (operation.status !== 'running') {
      if (tty) process.stdout.write('\n');
      if (operation.status === 'aborted') throw new MeridianError('GATE_FAILED', operation.message);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function registerMove(program: Command, kind: 'evacuate' | 'restore') {
  const evacuate = kind === 'evacuate';
  controlOptions(
    program
      .command(kind)
      .description(
        evacuate
          ? "move a region's traffic away in steps, checking gates in the receiving regions"
          : "bring a region's traffic back in steps (evacuate in reverse)",
      )
      .argument('<region>', 'region id'),
  )
    .option('--steps <list>', `dial at each step (default ${evacuate ? '75,50,25,0' : '25,50,75,100'})`)
    .option('--step-interval <duration>', 'wait between steps before checking gates', '30s')
    .option('--dry-run', 'print the plan only')
    .option('--reason <text>', 'why (goes to the audit log)', '')
    .option('--no-wait', 'start the operation and return')
    .addOption(
      jsonOption()
        .default(false)
        .argParser(() => true),
    )
    .action(action(async (region: string, opts: MoveOpts) => move(kind, region, opts)));
}

export const registerEvacuate = (program: Command) => registerMove(program, 'evacuate');
