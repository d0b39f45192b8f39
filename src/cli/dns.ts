import type { Command } from 'commander';
import type { RunDnsOptions } from '../dns/run.js';
import { MeridianError } from '../errors.js';
import {
  action,
  collect,
  configOption,
  controlUrlsFrom,
  followControlOption,
  serveUntilSignal,
  surviveRejections,
} from './index-helpers.js';
import { controlToken, resolveSecret, secretFileFlag, secretFlag, secretSources } from './secret.js';

interface DnsFlags {
  config: string;
  listen?: string[];
  admin?: string;
  workers?: string;
  control?: string[];
  token?: string;
  tokenFile?: string;
  stateDir?: string;
}

export function registerDns(program: Command) {
  program
    .command('dns')
    .description('serve the zone as an authoritative geo-DNS server (UDP and TCP)')
    .addOption(configOption())
    .option(
      '--listen <addr:port>',
      'serve on ADDR:PORT, UDP and TCP (repeatable; default: dns.listen)',
      collect,
    )
    .option(
      '--admin <addr:port>',
      'admin HTTP address for /metrics and /meridian/health (default: dns.admin)',
    )
    .option('--workers <n>', 'processes answering queries; 0 = one per CPU core (default: dns.workers)')
    .addOption(followControlOption())
    .addOption(secretFlag(controlToken()))
    .addOption(secretFileFlag(controlToken()))
    .option('--state-dir <dir>', 'where the last good snapshot from control is kept', 'meridian-state')
    .action(
      action(async (flags: DnsFlags) => {
        const { isClusterWorker, runClusterWorker } = await import('../dns/cluster.js');
        const { runDns } = await import('../dns/run.js');
        const { createLogger } = await import('../log.js');
        const log = createLogger('dns');
        const workers = flags.workers === undefined ? undefined : Number(flags.workers);
        if (workers !== undefined && (!Number.isInteger(workers) || workers < 0 || workers > 64)) {
          throw new MeridianError(
            'BAD_ARGUMENT',
            `--workers expects a whole number 0-64, got "${flags.workers}"`,
          );
        }
        const control = await controlUrlsFrom(flags.control);
        const token = resolveSecret(controlToken(), { ...flags });
        if (control && !token) {
          throw new MeridianError(
            'BAD_ARGUMENT',
            `--control needs a token: ${secretSources(controlToken())}`,
          );
        }
        const options: RunDnsOptions = {
          configFile: flags.config,
          listen: flags.listen,
          admin: flags.admin,
          workers,
          control,
          token,
          stateDir: flags.stateDir,
          log,
        };
        if (isClusterWorker()) {
          surviveRejections(log);
          return runClusterWorker(options);
        }
        const running = await runDns(options);
        log.info(
          { udp: running.ready.udp, admin: running.ready.admin, workers: running.ready.workers },
          'dns ready',
        );
        serveUntilSignal(
          running.ready,
          () => running.close(),
          log,
          () => running.reload(),
        );
      }),
    );
}
