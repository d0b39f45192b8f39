import type { Logger } from '../log.js';
import { onReload, onShutdown } from './lifecycle.js';

/**
 * Keeps a long-running process alive through a rejected promise nobody
 * awaited: logged with its stack, then the process carries on (a rejection
 * leaves no half-changed synchronous state behind). An uncaught exception
 * (a throw, or an `error` event without a listener) may have left state half
 * changed, so it is logged as fatal and the process exits 1 for its
 * supervisor to restart; the daemons listen for `error` on every socket,
 * server, stream and child process so that this does not happen.
 */
export function surviveRejections(log: Logger): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error({ err: err.message, stack: err.stack }, 'unhandled promise rejection; still running');
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err: err.message, stack: err.stack }, 'uncaught exception; exiting');
    log.flush(() => process.exit(1));
    setTimeout(() => process.exit(1), 1000).unref();
  });
}
let installed = false;

/**
 * The end of every server command: the ready line on stdout (other programs
 * wait for it), then run until SIGTERM or SIGINT, drain and close once, exit 0
 * (src/cli/lifecycle.ts); SIGHUP calls `reload` when given.
 */
export function serveUntilSignal(
  ready: object,
  close: () => Promise<void>,
  log: Logger,
  reload?: () => void | Promise<void>,
): void {
  surviveRejections(log);
  // Handlers first: a caller may signal as soon as it reads the ready line, and a SIGTERM that
  // lands before Node installs its handler kills the process with the default action (no drain,
  // no exit 0), which a loaded CI machine once showed for a two-worker `meridian dns`.
  if (reload) onReload(reload);
  onShutdown(close, log);
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}
