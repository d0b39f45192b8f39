import { type Command, Option } from 'commander';
import { loadConfig } from '../config/index.js';
import { MeridianError } from '../errors.js';
import { ControlSnapshotSource } from '../feed/control-source.js';
import { FileSnapshotSource } from '../feed/file-source.js';
import type { SnapshotSource } from '../feed/source.js';
import { createLogger, type Logger } from '../log.js';
import type { Steering } from '../providers/model.js';
import { createProvider, PROVIDERS, type ProviderSettings } from '../providers/registry.js';
import { type SyncResult, syncOnce, watchSync } from '../providers/sync.js';
import {
  action,
  configOption,
  jsonOption,
  printJson,
  reportError,
  surviveRejections,
} from './index-helpers.js';
import { controlToken, resolveSecret, type SecretSpec, secretOption, secretSources } from './secret.js';

interface SyncFlags extends ProviderSettings {
  config: string;
  provider?: string;
  steering?: Steering;
  dryRun?: boolean;
  watch?: boolean;
  json?: boolean;
  control?: string;
  token?: string;
  tokenFile?: string;
  stateDir: string;
}

const API_KEY: SecretSpec = {
  flag: '--api-key',
  env: 'MERIDIAN_PDNS_API_KEY',
  description: 'powerdns: API key',
  value: '<key>',
};
const TSIG_SECRET: SecretSpec = {
  flag: '--tsig-secret',
  env: 'MERIDIAN_TSIG_SECRET',
  description: 'rfc2136: TSIG secret',
  value: '<base64>',
};

export function formatSync(r: SyncResult): string {
  const head = `${r.provider} zone ${r.zone}, ${r.steering} steering, snapshot v${r.snapshotVersion}: ${r.changes.length} to change, ${r.unchanged} unchanged`;
  const tail = r.changes.length === 0 ? 'in sync.' : r.dryRun ? 'dry run: nothing applied.' : 'applied.';
  return [head, ...r.diff, ...r.warnings.map((w) => `warning: ${w}`), tail].join('\n');
}

/** Why the snapshot must not be pushed yet: never pushing the config file's state over an evacuation in control. */
function holdReason(source: SnapshotSource, once: boolean): string | null {
  if (!(source instanceof ControlSnapshotSource)) return null;
  const { from, version } = source.status();
  if (from === 'control') return null;
  if (from === 'disk' && !once) return null; // fail static, as dns and edge do
  return from === 'disk'
    ? `control is unreachable; the last snapshot on disk (v${version}) may be stale, so a one-off sync pushes nothing`
    : "control is unreachable and no snapshot is on disk; not pushing the config file's state";
}

function sourceFor(flags: SyncFlags, log: Logger): SnapshotSource {
  const control = flags.control ?? process.env.MERIDIAN_CONTROL;
  if (!control) return new FileSnapshotSource(flags.config, { log });
  const token = resolveSecret(controlToken(), { ...flags });
  if (!token)
    throw new MeridianError('BAD_ARGUMENT', `--control needs a token: ${secretSources(controlToken())}`);
  return new ControlSnapshotSource({
    controlUrl: control,
    token,
    configFile: flags.config,
    stateDir: flags.stateDir,
    log,
    // A one-off sync is not a server that must start quickly: give control time to answer.
    startTimeoutMs: flags.watch ? 2000 : 5000,
  });
}

async function run(flags: SyncFlags) {
  const name = flags.provider;
  if (!name) {
    throw new MeridianError('BAD_ARGUMENT', '--provider is required', [
      `one of: ${PROVIDERS.map((p) => p.name).join(', ')} (env MERIDIAN_DNS_PROVIDER)`,
    ]);
  }
  const config = loadConfig(flags.config);
  const secrets = { ...flags };
  flags.apiKey = resolveSecret(API_KEY, secrets);
  flags.tsigSecret = resolveSecret(TSIG_SECRET, secrets);
  const { provider, steering: configured } = await createProvider(name, flags, config.providers, [
    config.zone.name,
  ]);
  const steering = flags.steering ?? configured;
  const log = createLogger('dns-sync');
  if (flags.watch) surviveRejections(log);
  const source = sourceFor(flags, log);
  await source.start();
  const print = (r: SyncResult) => {
    if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`${formatSync(r)}\n`);
  };
  if (!flags.watch) {
    try {
      const held = holdReason(source, true);
      if (held) throw new MeridianError('CONTROL_UNREACHABLE', held);
      const result = await syncOnce({
        provider,
        config: source.config(),
        snapshot: source.current(),
        steering,
        dryRun: flags.dryRun,
      });
      if (flags.json) printJson(result);
      else print(result);
    } finally {
      await source.close();
      await provider.close();
    }
    return;
  }
  const watcher = watchSync({
    provider,
    source,
    steering,
    dryRun: flags.dryRun,
    onResult: print,
    onError: (e) => reportError(e, { json: flags.json }),
    hold: () => holdReason(source, false),
    onHold: (reason) => log.warn({ reason }, 'sync held'),
  });
  // The source's timers are unref()ed; this keeps the command running until a signal.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const stop = async () => {
    clearInterval(keepAlive);
    watcher.close();
    await source.close();
    await provider.close();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  await watcher.done;
}

/** `meridian dns sync`: a subcommand of `meridian dns` (the server), or `meridian dns-sync` without it. */
export function registerDnsSync(program: Command) {
  const dns = program.commands.find((c) => c.name() === 'dns');
  // Positional: options after `sync` belong to sync, not to the server command that shares their names.
  // (commander needs it on the program too for it to take effect on `dns`).
  if (dns) program.enablePositionalOptions();
  const cmd = dns ? dns.enablePositionalOptions().command('sync') : program.command('dns-sync');
  secretOption(cmd, controlToken());
  secretOption(cmd, API_KEY);
  secretOption(cmd, TSIG_SECRET);
  cmd
    .description('push the steering for the current snapshot to a DNS provider (diff, then apply)')
    .addOption(configOption())
    .addOption(
      new Option('--provider <name>', 'builtin, powerdns, rfc2136 or route53').env('MERIDIAN_DNS_PROVIDER'),
    )
    .addOption(
      new Option('--steering <mode>', "geo, weighted or plain (default: the provider's best)").choices([
        'geo',
        'weighted',
        'plain',
      ]),
    )
    .option('--dry-run', 'print the difference, change nothing')
    .option('--watch', 'keep running: sync again on every snapshot change (dials, failovers)')
    .option(
      '--control <urls>',
      'take the snapshot from the control plane: one URL or every instance, comma-separated (env MERIDIAN_CONTROL)',
    )
    .option('--state-dir <dir>', 'where the last good snapshot from control is kept', 'meridian-state')
    .addOption(new Option('--api-url <url>', 'powerdns: API base URL').env('MERIDIAN_PDNS_API_URL'))
    .addOption(
      new Option('--server-id <id>', 'powerdns: server id (default localhost)').env(
        'MERIDIAN_PDNS_SERVER_ID',
      ),
    )
    .addOption(
      new Option('--server <addr:port>', 'rfc2136: primary server for updates').env(
        'MERIDIAN_RFC2136_SERVER',
      ),
    )
    .addOption(new Option('--tsig-name <name>', 'rfc2136: TSIG key name').env('MERIDIAN_TSIG_NAME'))
    .addOption(
      new Option('--tsig-algorithm <alg>', 'rfc2136: hmac-sha256 (default), hmac-sha512, ...').env(
        'MERIDIAN_TSIG_ALGORITHM',
      ),
    )
    .addOption(
      new Option('--hosted-zone-id <id>', 'route53: hosted zone id').env('MERIDIAN_ROUTE53_HOSTED_ZONE_ID'),
    )
    .addOption(
      new Option(
        '--endpoint <url>',
        'route53: another endpoint than AWS (credentials: the AWS SDK chain)',
      ).env('MERIDIAN_ROUTE53_ENDPOINT'),
    )
    .addOption(jsonOption())
    .action(action(run));
}
