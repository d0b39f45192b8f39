import type { Command } from 'commander';
import { createLogger } from '../log.js';
import { runReplication } from '../replication/run.js';
import { action, configOption, serveUntilSignal } from './index-helpers.js';

interface ReplicationFlags {
  config: string;
  region: string;
  admin: string;
}

export function registerReplication(program: Command) {
  program
    .command('replication')
    .description(
      "run one region's replication relay and lag probe (the other regions' cache writes into its Redis)",
    )
    .addOption(configOption())
    .requiredOption('--region <id>', 'the region whose Redis this relay writes into')
    .option('--admin <addr:port>', 'admin address for /metrics and /meridian/health', '127.0.0.1:0')
    .action(
      action(async (flags: ReplicationFlags) => {
        const log = createLogger('replication');
        const running = await runReplication({
          configFile: flags.config,
          region: flags.region,
          admin: flags.admin,
          log,
        });
        log.info(running.ready, 'replication relay ready');
        serveUntilSignal(running.ready, () => running.close(), log);
      }),
    );
}
