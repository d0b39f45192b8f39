import type { Command } from 'commander';
import { MeridianError } from '../errors.js';
import { action, jsonOption, printJson } from './index-helpers.js';
import { type ControlOpts, clientFor, controlOptions } from './status.js';

export function registerDial(program: Command) {
  controlOptions(
    program
      .command('dial')
      .description('set a region dial directly: the share (0-100) of its home clients it keeps (operator)')
      .argument('<region>', 'region id')
      .argument('<pct>', 'percent, 0-100'),
  )
    .option('--reason <text>', 'why (goes to the audit log)', '')
    .addOption(jsonOption())
    .action(
      action(async (region: string, pct: string, opts: ControlOpts & { reason: string }) => {
        const dial = Number(pct.replace(/%$/, ''));
        if (!/^\d{1,3}(\.\d+)?%?$/.test(pct) || dial > 100)
          throw new MeridianError('BAD_ARGUMENT', `PCT must be a number from 0 to 100, got "${pct}"`);
        const r = await (await clientFor(opts)).call<{ version: number; changed: boolean }>(
          'PUT',
          `/v1/regions/${encodeURIComponent(region)}/dial`,
          { dial, reason: opts.reason },
        );
        if (opts.json) printJson({ region, dial, ...r });
        else
          process.stdout.write(
            `${region}: dial ${dial} % (${r.changed ? `snapshot v${r.version}` : 'unchanged'})\n`,
          );
      }),
    );
}
