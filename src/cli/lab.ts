import type { Command } from 'commander';
import { SCENARIO_ORDER } from '../chaos/drills/scenarios.js';
import type { LinkSpec } from '../chaos/link-host.js';
import { MeridianError } from '../errors.js';
import { LAB_VERSIONS } from '../lab/watchlist/versions.js';
import { action, collect, configOption, jsonOption, printJson } from './index-helpers.js';
import { packageFile } from './package.js';

const LAB_EXAMPLE = 'examples/two-regions.yaml';

const number = (flag: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new MeridianError('BAD_ARGUMENT', `${flag} expects a number, got "${text}"`);
  return n;
};

export function registerLab(program: Command) {
  registerLabLinks(program);
  program
    .command('lab')
    .description('run a whole multi-region deployment on this machine, with geo-spread users and a drill')
    .addOption(
      // The example shipped in the package, found wherever the lab is run from; a --config given is cwd-relative.
      configOption().default(packageFile(LAB_EXAMPLE), `${LAB_EXAMPLE} in the package`),
    )
    .option('--scenario <name>', `${[...SCENARIO_ORDER, 'all'].join(' | ')} (default: lab.scenario, kong)`)
    .option(
      '--duration <seconds>',
      'length of each scenario (default: lab.duration, 60)',
      number('--duration'),
    )
    .option('--rate <req/s>', 'requests per second from all users (default: lab.rate, 60)', number('--rate'))
    .option(
      '--repeat-for <seconds>',
      'run the scenarios (a list: kong,evacuate) in turn on one deployment, again and again, this long',
      number('--repeat-for'),
    )
    .option(
      '--report <dir>',
      'where to write index.html, PNG charts, summary.json, endpoints.json',
      'meridian-report',
    )
    .option(
      '--link-cut <how>',
      'how split-brain cuts the links: packet-filter (network namespaces, root), proxy, or auto (the first when possible)',
      'auto',
    )
    .addOption(jsonOption())
    .action(
      action(
        async (opts: {
          linkCut: string;
          config: string;
          scenario?: string;
          duration?: number;
          rate?: number;
          repeatFor?: number;
          report: string;
          json?: boolean;
        }) => {
          const { stopAllDeployments } = await import('../lab/deployment.js');
          const { runLab } = await import('../lab/index.js');
          const { textSummary } = await import('../lab/text-summary.js');
          const out = opts.json ? process.stderr : process.stdout;
          if (!['auto', 'proxy', 'packet-filter'].includes(opts.linkCut))
            throw new MeridianError(
              'BAD_ARGUMENT',
              `--link-cut expects auto, proxy or packet-filter, got "${opts.linkCut}"`,
            );
          // Ctrl-C: stop every server the lab started before leaving, so none is left behind.
          const interrupt = () => {
            out.write('\nstopping the lab...\n');
            void stopAllDeployments().finally(() => process.exit(130));
          };
          process.once('SIGINT', interrupt);
          process.once('SIGTERM', interrupt);
          const { summary, files } = await runLab({
            config: opts.config,
            scenario: opts.scenario,
            durationS: opts.duration,
            rate: opts.rate,
            repeatForS: opts.repeatFor,
            linkCut: opts.linkCut as 'auto' | 'proxy' | 'packet-filter',
            report: opts.report,
            progress: (line) => out.write(`${line}\n`),
          });
          if (opts.json) printJson(summary);
          else {
            out.write(`\n${textSummary(summary).join('\n')}\n`);
            out.write(`\nverdict: ${summary.verdict.pass ? 'PASS' : 'FAIL'}\n`);
            for (const f of summary.verdict.failures) out.write(`  ✘ ${f}\n`);
            out.write(`report: ${files.find((f) => f.endsWith('index.html'))}\n`);
          }
          if (!summary.verdict.pass) process.exitCode = 1;
        },
      ),
    );

  // One origin of the lab's sample service; the lab starts these as their own processes.
  program
    .command('lab-origin', { hidden: true })
    .description('run one origin of the lab sample service (a per-user watch list)')
    .requiredOption('--region <id>', 'region of this origin')
    .requiredOption('--id <name>', 'name of this origin, e.g. us-east-1/0')
    .option('--listen <addr:port>', 'address to listen on', '127.0.0.1:0')
    .option('--peer <url>', 'another origin to copy writes to (repeatable)', collect, [])
    .option('--bootstrap', 'copy the data from the first peer that answers before serving')
    .option('--release <version>', `the version it runs: ${LAB_VERSIONS.join(', ')} (v3 is broken)`, 'v1')
    .option('--seed <n>', "seed of a broken version's fault pattern", number('--seed'), 1)
    .option('--data <json>', "the region's Redis and NATS ({redis, keyPrefix})")
    .action(
      action(
        async (opts: {
          region: string;
          id: string;
          listen: string;
          peer: string[];
          bootstrap?: boolean;
          release: string;
          seed: number;
          data?: string;
        }) => {
          const { runOrigin } = await import('../lab/watchlist/run.js');
          await runOrigin(opts);
        },
      ),
    );
}

/** The lab's inter-region fault proxies, in a process of their own. */
export function registerLabLinks(program: Command) {
  program
    .command('lab-links', { hidden: true })
    .description('run the lab fault proxies between regions (admin API: GET|POST /links)')
    .requiredOption('--spec <json>', 'JSON list of {name, from, to, targetPort, rttMs}')
    .option('--sites <json>', 'sites in network namespaces: JSON {site: {address, gateway}}', '{}')
    .action(
      action(async (opts: { spec: string; sites: string }) => {
        let specs: LinkSpec[];
        try {
          specs = JSON.parse(opts.spec) as LinkSpec[];
        } catch {
          throw new MeridianError(
            'BAD_ARGUMENT',
            '--spec expects a JSON list of {name, from, to, targetPort, rttMs}',
          );
        }
        const { LinkHost } = await import('../chaos/link-host.js');
        const host = await new LinkHost(specs, JSON.parse(opts.sites)).start();
        process.stdout.write(`${JSON.stringify({ ready: true, part: 'links', ...host.describe() })}\n`);
        const stop = () => {
          void host.close().then(() => process.exit(0));
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      }),
    );
}
