import { type Command, Option } from 'commander';
import { action, configOption, serveUntilSignal } from './index-helpers.js';

export function registerControl(program: Command) {
  program
    .command('control')
    .description('run the control plane: region health, dials, evacuations, snapshot stream (HTTP API)')
    .addOption(configOption())
    .addOption(new Option('--listen <addr:port>', 'API address (default: control.listen; port 0 = any)'))
    .addOption(new Option('--state <file>', 'SQLite state file (default: control.store.file)'))
    .addOption(
      new Option(
        '--new-epoch',
        'start a new snapshot epoch, so data planes holding newer versions take this state (after restoring a backup)',
      ),
    )
    .action(
      action(async (opts: { config: string; listen?: string; state?: string; newEpoch?: boolean }) => {
        const { loadConfig } = await import('../config/index.js');
        const { startControl } = await import('../control/server.js');
        const { createLogger } = await import('../log.js');
        const config = loadConfig(opts.config);
        const log = createLogger('control');
        const server = await startControl({
          config,
          log,
          listen: opts.listen,
          stateFile: opts.state,
          newEpoch: opts.newEpoch,
          configFile: opts.config,
        });
        const addr = server.app.server.address() as { address: string; port: number };
        const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
        const ready = {
          ready: true,
          part: 'control',
          listen: `${host}:${addr.port}`,
          url: server.url,
          store: config.control.store.type,
        };
        serveUntilSignal(
          ready,
          async () => {
            await server.close();
            log.flush();
          },
          log,
          () => server.reload(),
        );
      }),
    );
}
