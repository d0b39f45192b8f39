import { type Command, Option } from 'commander';
import type { ControlClient } from '../control/client.js';
import type { statusOf } from '../control/routes-read.js';
import { MeridianError } from '../errors.js';
import { action, jsonOption, printJson, table } from './index-helpers.js';
import { controlToken, resolveSecret, secretOption, secretSources } from './secret.js';

export type Status = Awaited<ReturnType<typeof statusOf>>;

export interface ControlOpts {
  control: string;
  token?: string;
  tokenFile?: string;
  json?: boolean;
}

/** --control, and the token (--token, --token-file, env MERIDIAN_TOKEN or MERIDIAN_TOKEN_FILE). */
export function controlOptions(cmd: Command): Command {
  return secretOption(
    cmd.addOption(
      new Option(
        '--control <urls>',
        'control plane URL; several instances comma-separated: the first that answers',
      )
        .env('MERIDIAN_CONTROL')
        .default('http://127.0.0.1:8300'),
    ),
    controlToken('bearer token'),
  );
}

export async function clientFor(opts: ControlOpts): Promise<ControlClient> {
  const spec = controlToken();
  const token = resolveSecret(spec, { ...opts });
  if (!token) throw new MeridianError('UNAUTHORIZED', `no token: pass ${secretSources(spec)}`);
  const { ControlClient } = await import('../control/client.js');
  return new ControlClient(opts.control, token);
}

const lagText = (lag: number | null | undefined, rpo: number | null | undefined) =>
  lag === null || lag === undefined
    ? '-'
    : `${Math.round(lag)} ms${rpo != null && lag > rpo ? ' > RPO' : ''}`;

export function formatStatus(s: Status): string {
  const showLag = s.rpoMs != null || s.regions.some((r) => r.replicationLagMs != null);
  const rows = s.regions.map((r) => [
    r.id,
    r.health + (r.pending ? ` (-> ${r.pending})` : ''),
    `${r.dial} %`,
    `${Math.round(r.load)}/${r.capacity}`,
    `${Math.round(r.demand)}`,
    ...(showLag ? [lagText(r.replicationLagMs, s.rpoMs)] : []),
    r.autoRestore
      ? `${r.why}; ${r.autoRestore}`
      : outlierOf(s, r.id)
        ? `${r.why}; ${outlierOf(s, r.id)}`
        : r.dial === 0 && r.health !== 'DOWN' && s.operation?.status !== 'running'
          ? `${r.why}; dial 0 holds until: meridian restore ${r.id}`
          : r.why,
  ]);
  const lagHead = showLag ? [`repl lag${s.rpoMs != null ? ` (RPO ${s.rpoMs} ms)` : ''}`] : [];
  const lines = [
    `snapshot v${s.version}; leader ${s.leader ?? 'none'}`,
    table([['region', 'health', 'dial', 'load/capacity', 'demand', ...lagHead, 'why'], ...rows]),
  ];
  const op = s.operation;
  if (op) {
    const step =
      op.index >= 0 ? `step ${op.index + 1}/${op.steps.length} (dial ${op.steps[op.index]})` : 'not started';
    const kind = `${op.auto ? 'automatic ' : ''}${op.kind}`;
    lines.push(`operation ${op.id}: ${kind} ${op.region} ${op.status}, ${step}: ${op.message}`);
  }
  lines.push(...formatRetention(s));
  lines.push(...formatOutlier(s));
  return lines.join('\n');
}

/** A line per region whose replication streams are near their maxAge or lost events (a gap). */
export function formatRetention(s: Status): string[] {
  const lines: string[] = [];
  for (const r of s.regions) {
    const ret = r.replicationRetention;
    if (!ret) continue;
    if (ret.gap) {
      const from = ret.gapFrom.join(', ');
      lines.push(
        `replication GAP into ${r.id}: events from ${from} aged out before it took them; run meridian replication resync --region ${r.id} --from ${ret.gapFrom[0]}`,
      );
    } else if (ret.low) {
      const left = ret.headroomS === null ? '' : ` (${Math.round(ret.headroomS)} s left)`;
      lines.push(
        `replication retention low into ${r.id}${left}: its relay is behind; events age out after nats.maxAge`,
      );
    }
  }
  return lines;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** A region control evacuated as an outlier: what the status table says of it. */
function outlierOf(s: Status, region: string): string | null {
  const e = s.outlier?.evacuated.find((x) => x.region === region);
  if (!e) return null;
  const back =
    e.phase === 'restoring'
      ? 'restoring'
      : e.probeAt
        ? `comes back once it recovers (probe at ${clock(e.probeAt)} UTC if too little traffic to judge)`
        : 'comes back once it recovers';
  return `evacuated as an outlier at ${clock(e.at)} UTC (${e.why}); ${back}`;
}

/** Relative health: the global condition, each region's verdict, the last decision. */
export function formatOutlier(s: Status): string[] {
  const o = s.outlier;
  if (!o) return [];
  if (!o.enabled) return ['relative health: off (control.outlier.enabled)'];
  const lines: string[] = [];
  if (o.global)
    lines.push(`GLOBAL since ${clock(o.global.at)} UTC: ${o.global.why}; holding every dial (restrict)`);
  const verdicts = o.regions.map((r) => `${r.region} ${r.verdict}`).join(', ');
  if (verdicts) lines.push(`relative health: ${verdicts}`);
  for (const r of o.regions)
    if (r.verdict !== 'fine' && r.verdict !== 'unjudged') lines.push(`  ${r.region}: ${r.why}`);
  const last = o.decisions.at(-1);
  if (last)
    lines.push(
      `last decision ${clock(last.at)} UTC: ${last.decision}${last.region ? ` ${last.region}` : ''}: ${last.why}`,
    );
  return lines;
}

export function registerStatus(program: Command) {
  controlOptions(
    program.command('status').description('regions, health, dials, load, capacity and the running operation'),
  )
    .addOption(jsonOption())
    .action(
      action(async (opts: ControlOpts) => {
        const status = await (await clientFor(opts)).call<Status>('GET', '/v1/status');
        if (opts.json) printJson(status);
        else process.stdout.write(`${formatStatus(status)}\n`);
      }),
    );
}
