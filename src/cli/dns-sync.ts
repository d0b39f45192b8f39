import { type Command, Option } from 'commander';
import type { Steering } from '../providers/model.js';
import type { ProviderSettings } from '../providers/registry.js';
import { action, configOption, jsonOption } from './index-helpers.js';
import { controlToken, type SecretSpec, secretOption } from './secret.js';

export interface SyncFlags extends ProviderSettings {
  config: string;
  provider?: string;
  steering?: Steering;
  apply?: boolean;
  detailedExitcode?: boolean;
  watch?: boolean;
  json?: boolean;
  control?: string;
  token?: string;
  tokenFile?: string;
  stateDir: string;
  ownerId?: string;
  adopt?: boolean;
  admin?: string;
  interval?: string;
}

export const API_KEY: SecretSpec = {
  flag: '--api-key',
  env: 'MERIDIAN_PDNS_API_KEY',
  description: 'powerdns: API key',
  value: '<key>',
};
export const TSIG_SECRET: SecretSpec = {
  flag: '--tsig-secret',
  env: 'MERIDIAN_TSIG_SECRET',
  description: 'rfc2136: TSIG secret',
  value: '<base64>',
};

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
    .description(
      'compare the steering for the current snapshot with a DNS provider and print the changes; --apply makes them',
    )
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
    .option('--apply', 'make the changes (without it: print them, change nothing)')
    .addOption(
      new Option(
        '--detailed-exitcode',
        'exit 0 when in sync, 2 when there are changes (pending, or applied with --apply), 1 on error',
      ).conflicts('watch'),
    )
    // The preview is the default now; kept so that scripts written for the old default still run.
    .addOption(new Option('--dry-run').hideHelp().conflicts('apply'))
    .option(
      '--watch',
      'keep running: compare again on every snapshot change (dials, failovers); with --apply, apply',
    )
    .option(
      '--control <urls>',
      'take the snapshot from the control plane: one URL or every instance, comma-separated (env MERIDIAN_CONTROL)',
    )
    .option('--state-dir <dir>', 'where the last good snapshot from control is kept', 'meridian-state')
    .option(
      '--owner-id <id>',
      'change only names whose _meridian-owner TXT marker carries this id (default: providers.ownerId, "default")',
    )
    .option(
      '--adopt',
      'also take names that hold records but no _meridian-owner marker (what a Meridian before markers wrote), writing the marker; never a name another owner marked',
    )
    .option(
      '--admin <addr:port>',
      'with --watch: admin address for /metrics, /meridian/health, /meridian/ready (default: providers.admin, 127.0.0.1:8304)',
    )
    .option(
      '--interval <duration>',
      'with --watch: compare again this often to repair drift, such as 30s or 5m (default: providers.interval, 1m)',
    )
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
    .action(
      action(async (flags: SyncFlags) => {
        const { runSync } = await import('./dns-sync-run.js');
        process.exitCode = await runSync(flags);
      }),
    );
}
