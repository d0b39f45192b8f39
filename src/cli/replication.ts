import type { Command } from 'commander';
import { createLogger } from '../log.js';
import { runReplication } from '../replication/run.js';
import { action, configOption } from './index-helpers.js';

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
        process.stdout.write(`${JSON.stringify(running.ready)}\n`);
        log.info(running.ready, 'replication relay ready');
        let closing = false;
        const shutdown = async () => {
          if (closing) return;
          closing = true;
          await running.close();
          process.exit(0);
        };
        process.on('SIGTERM', shutdown);
        process.on('SIGINT', shutdown);
      }),
    );
}
