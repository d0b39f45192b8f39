import { type Command, Option } from 'commander';
import type { ReplicationCredentials } from '../replication/region.js';
import { action, configOption, serveUntilSignal } from './index-helpers.js';
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
  const cmd = program
    .command('replication')
    .description(
      "run one region's replication relay and lag probe (the other regions' cache writes into its Redis)",
    )
    .addOption(configOption())
    .requiredOption('--region <id>', 'the region whose Redis this relay writes into')
    .option(
      '--admin <addr:port>',
      'admin address for /metrics, /meridian/health and /meridian/ready',
      '127.0.0.1:8303',
    );
  replicationSecretOptions(cmd).action(
    action(async (flags: ReplicationFlags) => {
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
}
