import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { GeoLocator } from '../geo/index.js';
import { type Explanation, explain } from './explain.js';
import { action, configOption, jsonOption, printJson, table } from './index-helpers.js';

// Until the full lab exists this shows the steering of a few real client
// networks, healthy and with a region down.
const SAMPLE_CLIENTS: [string, string][] = [
  ['Stanford, CA', '171.64.1.1'],
  ['Columbia, NY', '128.59.1.1'],
  ['Spokane, WA', '24.16.0.1'],
  ['London, GB', '81.2.69.142'],
  ['Sydney, AU', '1.1.1.1'],
];

export function registerLab(program: Command) {
  program
    .command('lab')
    .description('a whole multi-region deployment on this machine (for now: steering of sample clients)')
    .addOption(configOption().default('examples/two-regions.yaml'))
    .addOption(jsonOption())
    .action(
      action(async (opts: { config: string; json?: boolean }) => {
        const config = loadConfig(opts.config);
        const geo = await GeoLocator.open(config.geo);
        const scenarios: [string, string[]][] = [
          ['all healthy', []],
          ...config.regions.map((r): [string, string[]] => [`${r.id} DOWN`, [r.id]]),
        ];
        const results: Record<string, Record<string, Explanation>> = {};
        for (const [name, down] of scenarios) {
          results[name] = {};
          for (const [place, ip] of SAMPLE_CLIENTS)
            results[name][place] = await explain(config, { client: ip, down }, geo);
        }
        if (opts.json) return printJson(results);
        for (const [name, byPlace] of Object.entries(results)) {
          process.stdout.write(`\n${name}\n`);
          const rows = Object.entries(byPlace).map(([place, e]) => [
            `  ${place}`,
            e.client,
            e.region ?? '-',
            e.candidates[0]?.reason ?? '-',
          ]);
          process.stdout.write(`${table([['  client', 'address', 'region', 'reason'], ...rows])}\n`);
        }
      }),
    );
}
