import cluster from 'node:cluster';
import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '../core/duration.js';
import { MeridianError } from '../errors.js';
import {
  action,
  configOption,
  controlUrlsFrom,
  followControlOption,
  serveUntilSignal,
  surviveRejections,
} from './index-helpers.js';
import { replicationCredentials } from './replication.js';
import { controlToken, resolveSecret, secretFileFlag, secretFlag, secretSources } from './secret.js';

interface EdgeFlags {
  config: string;
  region: string;
  listen?: string;
  admin?: string;
  workers?: string;
  control?: string[];
  token?: string;
  tokenFile?: string;
  stateDir?: string;
  drainTimeout?: number;
}

export function registerEdge(program: Command) {
  program
    .command('edge')
    .description(
      "serve one region's HTTP edge: route by Host, proxy to origins, cross-region retry, shedding",
    )
    .addOption(configOption())
    .requiredOption('--region <id>', 'the region this edge serves')
    .option('--listen <addr:port>', "data-plane address (default: edge.listen, else the region's edge URL)")
    .option(
      '--admin <addr:port>',
      'admin address for /metrics, /meridian/health, /fault (default: edge.admin)',
    )
    .option('--workers <n>', 'processes sharing the port; 0 = one per CPU core (default: edge.workers)')
    .addOption(followControlOption())
    .addOption(secretFlag(controlToken('agent token for --control')))
    .addOption(secretFileFlag(controlToken('agent token for --control')))
    .option('--state-dir <dir>', 'where the last good snapshot from control is kept', 'meridian-state')
    .option(
      '--drain-timeout <duration>',
      'on SIGTERM, how long requests in flight may finish, e.g. 20s (default: edge.drainTimeout)',
      parseDrainTimeout,
    )
    .action(
      action(async (flags: EdgeFlags) => {
        const { loadConfig } = await import('../config/index.js');
        const { runEdge } = await import('../edge/run.js');
        const { createLogger } = await import('../log.js');
        const { startRegionLagProbe } = await import('../replication/region.js');
        const log = createLogger('edge');
        const workers = flags.workers === undefined ? undefined : Number(flags.workers);
        if (workers !== undefined && (!Number.isInteger(workers) || workers < 0 || workers > 64)) {
          throw new MeridianError(
            'BAD_ARGUMENT',
            `--workers expects a whole number 0-64, got "${flags.workers}"`,
          );
        }
        const control = await controlUrlsFrom(flags.control);
        const token = resolveSecret(controlToken(), { ...flags });
        if (control && !token)
          throw new MeridianError(
            'BAD_ARGUMENT',
            `--control needs a token: ${secretSources(controlToken())}`,
          );
        // Replication lag for the reports, when replication.regions lists this region.
        // Never fatal: an edge serves without it.
        const lagProbe = cluster.isPrimary
          ? await Promise.resolve()
              .then(() =>
                startRegionLagProbe({
                  config: loadConfig(flags.config).replication,
                  region: flags.region,
                  log,
                  // The lag probe's Redis and NATS secrets: from the environment (see `meridian replication --help`).
                  credentials: replicationCredentials({}),
                }),
              )
              .catch((err) => {
                log.warn({ reason: String(err) }, 'replication lag probe not started');
                return null;
              })
          : null;
        const running = await runEdge({
          configFile: flags.config,
          region: flags.region,
          listen: flags.listen,
          admin: flags.admin,
          workers,
          control,
          token,
          stateDir: flags.stateDir,
          drainTimeout: flags.drainTimeout,
          log,
          replicationLagMs: lagProbe ? () => lagProbe.maxLagMs() : undefined,
          replicationRetention: lagProbe ? () => lagProbe.retention() : undefined,
        }).catch(async (e) => {
          await lagProbe?.close();
          throw e;
        });
        if (running.ready === null) {
          surviveRejections(log);
          return; // a cluster worker: the primary prints the ready line
        }
        log.info(running.ready, 'edge ready');
        serveUntilSignal(
          running.ready,
          async () => {
            await running.close();
            await lagProbe?.close();
          },
          log,
          () => running.reload(),
        );
      }),
    );
}

function parseDrainTimeout(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : parseDuration(text);
  if (ms === null)
    throw new InvalidArgumentError(`expected a duration such as "20s" or "500ms", got "${text}"`);
  return ms;
}
