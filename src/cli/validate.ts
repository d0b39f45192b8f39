import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MeridianError } from '../errors.js';
import { action, jsonOption, printJson } from './index-helpers.js';

export function registerValidate(program: Command) {
  program
    .command('validate')
    .description('check a meridian.yaml and list every problem with its line')
    .argument('<file>', 'config file')
    .addOption(jsonOption())
    .action(
      action(async (file: string, opts: { json?: boolean }) => {
        const { formatProblem, parseConfigText } = await import('../config/index.js');
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          throw new MeridianError('CONFIG_UNREADABLE', `${file}: ${(e as Error).message}`);
        }
        const { config, problems } = parseConfigText(text, file);
        if (opts.json) printJson({ file, valid: problems.length === 0, problems });
        else if (config) {
          process.stdout.write(
            `${file}: valid (${config.regions.length} regions, ${config.services.length} services)\n`,
          );
        } else {
          for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
          process.stdout.write(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
        }
        if (problems.length > 0) process.exitCode = 1;
      }),
    );

  program
    .command('schema')
    .description('print the JSON Schema of meridian.yaml (for editors)')
    .action(async () => {
      const { configJsonSchema } = await import('../config/index.js');
      printJson(configJsonSchema());
    });
}
