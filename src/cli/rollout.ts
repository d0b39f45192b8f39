// `meridian rollout start|status|pause|resume|abort`: the CLI side of control's rollout API
// (POST /v1/rollouts, GET /v1/rollouts/current, POST /v1/rollouts/:id/pause|resume|abort).
import { type Command, Option } from 'commander';
import type { ControlClient } from '../control/client.js';
import { isMeridianError, MeridianError } from '../errors.js';
import { jsonOption, printJson, reportError } from './index-helpers.js';
import {
  clock,
  formatOutlier,
  formatRollout,
  progressBar,
  progressKey,
  progressLine,
  wavesTable,
} from './rollout-format.js';
import {
  type OutlierState,
  type RolloutRecord,
  rolloutFinished,
  stoppingJudgement,
  stopReason,
} from './rollout-record.js';
import { type ControlOpts, clientFor, controlOptions } from './status.js';

interface StartOpts extends ControlOpts {
  wait?: boolean;
  dryRun?: boolean;
}

/** A mistake in the command line itself: exits 2 (exit codes: 0 done, 1 rolled back, aborted or a failure). */
export class UsageError extends MeridianError {
  constructor(message: string) {
    super('BAD_ARGUMENT', message);
  }
}

const POLL_MS = 500;
/** How long --wait rides out an unreachable control (a restart, a leader change) before giving up. */
const UNREACHABLE_GRACE_MS = 30_000;

const jsonLine = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

function run<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    const opts = args.find((a): a is ControlOpts => typeof a === 'object' && a !== null && 'control' in a);
    try {
      await fn(...args);
    } catch (error) {
      process.exitCode = reportError(error, { json: opts?.json });
    }
  };
}

const current = (client: ControlClient) =>
  client.call<{ rollout: RolloutRecord | null }>('GET', '/v1/rollouts/current');

/** Prints how the rollout ended; exit 1 when it did not reach every wave. */
function finish(r: RolloutRecord, json: boolean | undefined) {
  const judgement = stoppingJudgement(r);
  if (json) jsonLine({ event: 'finished', result: r.status, rollout: r, judgement });
  else if (r.status === 'done')
    process.stdout.write(`rollout ${r.id} done: every region runs ${r.version}\n`);
  else {
    process.stderr.write(`meridian: rollout ${r.id} of ${r.version} ${r.status}: ${stopReason(r)}\n`);
    process.stdout.write(`${formatRollout(r)}\n`);
  }
  if (r.status !== 'done') process.exitCode = 1;
}

/** Follows a rollout until it is done, rolled back or aborted. */
async function follow(client: ControlClient, first: RolloutRecord, json: boolean | undefined) {
  const tty = process.stdout.isTTY && !json;
  let lastKey = '';
  let unreachableSince: number | null = null;
  let r = first;
  for (;;) {
    const key = progressKey(r);
    if (key !== lastKey) {
      lastKey = key;
      if (json)
        jsonLine({
          event: 'progress',
          at: r.updatedAt,
          id: r.id,
          status: r.status,
          phase: r.phase,
          wave: r.waveIndex + 1,
          waves: r.waves.length,
          regions: r.regions,
          judgement: r.judgements.at(-1) ?? null,
          message: r.message,
        });
      else if (tty) process.stdout.write(`\r\x1b[2K${progressBar(r)}`);
      else process.stdout.write(`${progressLine(r)}\n`);
    }
    if (rolloutFinished(r)) {
      if (tty) process.stdout.write('\n');
      return finish(r, json);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      const { rollout } = await current(client);
      unreachableSince = null;
      if (!rollout || rollout.id !== first.id)
        throw new MeridianError('CONFLICT', `rollout ${first.id} is no longer control's current rollout`);
      r = rollout;
    } catch (e) {
      // A control restart or leader change mid-wave: control keeps the rollout, so keep asking a while.
      if (!isMeridianError(e) || !['CONTROL_UNREACHABLE', 'NOT_LEADER'].includes(e.code)) throw e;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > UNREACHABLE_GRACE_MS) throw e;
      if (!json) process.stderr.write(`${tty ? '\n' : ''}meridian: ${e.message}; asking again\n`);
    }
  }
}

async function start(version: string, opts: StartOpts) {
  if (!/^\S+$/.test(version) || version.startsWith('-'))
    throw new UsageError(`VERSION must be one word such as v2, got "${version}"`);
  if (opts.dryRun && opts.wait) throw new UsageError('--wait has nothing to follow with --dry-run');
  const client = await clientFor(opts);
  const { rollout } = await client.call<{ rollout: RolloutRecord }>('POST', '/v1/rollouts', {
    version,
    ...(opts.dryRun ? { dryRun: true } : {}),
  });
  if (opts.dryRun) {
    if (opts.json) jsonLine({ event: 'plan', rollout });
    else
      process.stdout.write(
        `dry run, nothing started: ${version} (from ${rollout.previousVersion ?? 'unknown'}) in ${rollout.waves.length} wave(s)\n${wavesTable(rollout)}\n`,
      );
    return;
  }
  if (opts.json) jsonLine({ event: 'started', rollout });
  else
    process.stdout.write(
      `rollout ${rollout.id} of ${version} started at ${clock(rollout.startedAt)}${opts.wait ? '' : '; follow it with meridian rollout status'}\n`,
    );
  if (opts.wait) await follow(client, rollout, opts.json);
}

async function status(opts: ControlOpts) {
  const client = await clientFor(opts);
  // One after the other: ControlClient moves to the next instance per call, and two calls failing
  // over at once can mark the instance that answers as unreachable.
  const { rollout } = await current(client);
  const st = await client.call<{ outlier?: OutlierState }>('GET', '/v1/status');
  const outlier = st.outlier ?? null;
  if (opts.json) return printJson({ rollout, outlier });
  process.stdout.write(`${rollout ? formatRollout(rollout) : 'no rollout yet'}\n${formatOutlier(outlier)}\n`);
}

interface VerbOpts extends ControlOpts {
  reason: string;
}

async function control(verb: 'pause' | 'resume' | 'abort', opts: VerbOpts) {
  const client = await clientFor(opts);
  const { rollout } = await current(client);
  if (!rollout) throw new MeridianError('NOT_FOUND', `no rollout to ${verb}`);
  const result = await client.call<{ rollout: RolloutRecord }>(
    'POST',
    `/v1/rollouts/${encodeURIComponent(rollout.id)}/${verb}`,
    { reason: opts.reason },
  );
  if (opts.json) return printJson(result);
  process.stdout.write(`${formatRollout(result.rollout)}\n`);
}

export function registerRollout(program: Command) {
  const rollout = program
    .command('rollout')
    .description('roll a release out region by region, with canaries and automatic rollback');
  controlOptions(
    rollout
      .command('start')
      .description('start a rollout of VERSION with the plan in control config (rollout.waves, actions)')
      .argument('<version>', 'the version to deploy, e.g. v2 (MERIDIAN_VERSION for the actions)'),
  )
    .option('--wait', 'follow the rollout until it is done (exit 0) or rolled back/aborted (exit 1)')
    .option('--dry-run', 'show the waves control would roll out; start nothing')
    .addOption(new Option('--json', 'print JSON, one object per line (with --wait: one per phase change)'))
    .action(run(async (version: string, opts: StartOpts) => start(version, opts)));
  controlOptions(
    rollout
      .command('status')
      .description('the rollout: waves, each region version and phase, judgements; and outlier evacuations'),
  )
    .addOption(jsonOption())
    .action(run(async (opts: ControlOpts) => status(opts)));
  const verbs = {
    pause: 'pause the current rollout where it is',
    resume: 'resume a paused rollout',
    abort: 'stop the current rollout and roll back every region it reached',
  } as const;
  for (const [verb, description] of Object.entries(verbs) as ['pause' | 'resume' | 'abort', string][])
    controlOptions(rollout.command(verb).description(description))
      .option('--reason <text>', 'why (goes to the audit log)', '')
      .addOption(jsonOption())
      .action(run(async (opts: VerbOpts) => control(verb, opts)));
}
