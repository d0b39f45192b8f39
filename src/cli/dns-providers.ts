import type { Command } from 'commander';
import { action, jsonOption, printJson, table } from './index-helpers.js';

export function registerDnsProviders(program: Command) {
  const cmd = program.command('dns-providers').description('DNS services Meridian can push its steering to');
  cmd
    .command('list')
    .description('show each provider and what it can express')
    .addOption(jsonOption())
    .action(
      action(async (opts: { json?: boolean }) => {
        const { PROVIDERS } = await import('../providers/registry.js');
        if (opts.json) {
          printJson({
            providers: PROVIDERS.map((p) => ({
              name: p.name,
              steering: p.capabilities.steering,
              defaultSteering: p.capabilities.steering[0],
              geo: p.capabilities.steering.includes('geo'),
              weighted: p.capabilities.steering.includes('weighted'),
              types: p.capabilities.types,
              geoCodes: p.capabilities.geoCodes ?? null,
              options: p.options,
              notes: p.capabilities.notes,
            })),
          });
          return;
        }
        const rows = [['PROVIDER', 'STEERING (default first)', 'RECORD TYPES', 'GEO CODES', 'OPTIONS']];
        for (const p of PROVIDERS) {
          rows.push([
            p.name,
            p.capabilities.steering.join(', '),
            p.capabilities.types.join(' '),
            p.capabilities.geoCodes ?? '-',
            p.options.map((o) => o.flag).join(' ') || '-',
          ]);
        }
        const notes = PROVIDERS.map((p) => `  ${p.name}: ${p.capabilities.notes}`);
        process.stdout.write(`${table(rows)}\n\n${notes.join('\n')}\n`);
      }),
    );
}
