import { type Command, Option } from 'commander';
import { MeridianError } from '../errors.js';
import type { ReplicationCredentials } from '../replication/region.js';
import { action, configOption, jsonOption, printJson, serveUntilSignal } from './index-helpers.js';
import { resolveSecret, type SecretSpec, secretOption } from './secret.js';

interface ReplicationFlags {
  config: string;
  region: string;
  admin: string;
}

const REDIS_PASSWORD: SecretSpec = {
  flag: '--redis-password',
  env: 'MERIDIAN_REDIS_PASSWORD',
  description: "password of this region's Redis (overrides the one in its URL)",
  value: '<password>',
};
const NATS_TOKEN: SecretSpec = {
  flag: '--nats-token',
  env: 'MERIDIAN_NATS_TOKEN',
  description: 'NATS token',
  value: '<token>',
};
const NATS_PASSWORD: SecretSpec = {
  flag: '--nats-password',
  env: 'MERIDIAN_NATS_PASSWORD',
  description: 'NATS password (with --nats-user)',
  value: '<password>',
};

/** The replication secrets, kept out of meridian.yaml: for `meridian replication` and the edge's lag probe. */
export function replicationSecretOptions(cmd: Command): Command {
  for (const spec of [REDIS_PASSWORD, NATS_TOKEN, NATS_PASSWORD]) secretOption(cmd, spec);
  return cmd.addOption(
    new Option('--nats-user <user>', 'NATS user (with --nats-password)').env('MERIDIAN_NATS_USER'),
  );
}

export function replicationCredentials(opts: Record<string, unknown>): ReplicationCredentials {
  return {
    redisPassword: resolveSecret(REDIS_PASSWORD, opts),
    natsToken: resolveSecret(NATS_TOKEN, opts),
    natsUser: opts.natsUser as string | undefined,
    natsPassword: resolveSecret(NATS_PASSWORD, opts),
  };
}

export function registerReplication(program: Command) {
  // Positional: options after `resync` belong to it (commander needs it on the program too).
  program.enablePositionalOptions();
  const cmd = program
    .command('replication')
    .description(
      "run one region's replication relay and lag probe (the other regions' cache writes into its Redis)",
    )
    .enablePositionalOptions()
    .addOption(configOption())
    // Checked in the action: commander would demand it of `replication resync` too.
    .option('--region <id>', 'the region whose Redis this relay writes into (required)')
    .option(
      '--admin <addr:port>',
      'admin address for /metrics, /meridian/health and /meridian/ready',
      '127.0.0.1:8303',
    );
  replicationSecretOptions(cmd).action(
    action(async (flags: ReplicationFlags) => {
      if (!flags.region)
        throw new MeridianError('BAD_ARGUMENT', "required option '--region <id>' not specified");
      const { createLogger } = await import('../log.js');
      const { runReplication } = await import('../replication/run.js');
      const { clockOffsetFromEnv } = await import('../replication/test-clock.js');
      const log = createLogger('replication');
      const running = await runReplication({
        configFile: flags.config,
        region: flags.region,
        admin: flags.admin,
        log,
        credentials: replicationCredentials({ ...flags }),
        clockOffsetMs: clockOffsetFromEnv(),
      });
      log.info(running.ready, 'replication relay ready');
      serveUntilSignal(
        running.ready,
        () => running.close(),
        log,
        () => running.reload(),
      );
    }),
  );
  registerResync(cmd);
}

interface ResyncFlags {
  config: string;
  region: string;
  from: string;
  ranges: string;
  json?: boolean;
}

/** `meridian replication resync`: recovery after a gap (events that aged out of a stream untaken). */
function registerResync(replication: Command) {
  const cmd = replication
    .command('resync')
    .description(
      "copy what REGION missed of FROM's writes (anti-entropy by key ranges, safe while writes continue) and clear the gap flag",
    )
    .addOption(configOption())
    .requiredOption('--region <id>', 'the region that missed events (written into)')
    .requiredOption('--from <id>', 'the region whose events it missed (read from)')
    .option('--ranges <n>', 'key ranges compared by digest', '256')
    .addOption(jsonOption());
  secretOption(cmd, REDIS_PASSWORD);
  secretOption(cmd, NATS_TOKEN);
  secretOption(cmd, NATS_PASSWORD);
  cmd
    .addOption(new Option('--nats-user <user>', 'NATS user (with --nats-password)').env('MERIDIAN_NATS_USER'))
    .action(
      action(async (flags: ResyncFlags) => {
        const ranges = Number(flags.ranges);
        if (!Number.isInteger(ranges) || ranges < 1 || ranges > 65_536)
          throw new MeridianError(
            'BAD_ARGUMENT',
            `--ranges expects a whole number 1-65536, got "${flags.ranges}"`,
          );
        const { createLogger } = await import('../log.js');
        const { runResync } = await import('../replication/run-resync.js');
        let lastAt = 0;
        const result = await runResync({
          configFile: flags.config,
          region: flags.region,
          from: flags.from,
          ranges,
          log: createLogger('replication'),
          credentials: replicationCredentials({ ...flags }),
          onProgress: (p) => {
            // Long runs say where they are, at most once a second, on stderr (stdout is the result).
            if (Date.now() - lastAt < 1000) return;
            lastAt = Date.now();
            process.stderr.write(`resync ${p.phase}: ${p.scanned} keys read, ${p.keysCopied} copied\n`);
          },
        });
        if (flags.json) printJson(result);
        else
          process.stdout.write(
            `resync ${result.from} -> ${result.region}: ${result.rangesDiffering}/${result.ranges} ranges differed, ` +
              `${result.keysCopied} keys copied, ${result.newerInTarget} newer in ${result.region} kept` +
              `${result.gapCleared ? '; gap flag cleared' : ''}\n`,
          );
      }),
    );
}
