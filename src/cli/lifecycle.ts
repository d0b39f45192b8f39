// How every daemon answers signals: SIGHUP reloads, SIGTERM/SIGINT drain
// then exit 0, a second SIGTERM/SIGINT exits at once.
import type { Logger } from '../log.js';

type Task = () => void | Promise<void>;

const reloaders = new Set<Task>();
const stoppers: Task[] = [];
let reloadInstalled = false;
let shutdownInstalled = false;
let shuttingDown = false;
let reloading: Promise<void> | null = null;
let reloadAgain = false;

/** Runs `fn` on every SIGHUP (one reload at a time; a HUP during a reload runs it once more after). */
export function onReload(fn: Task): () => void {
  reloaders.add(fn);
  if (!reloadInstalled) {
    reloadInstalled = true;
    process.on('SIGHUP', runReloads);
  }
  return () => reloaders.delete(fn);
}

function runReloads(): void {
  if (reloading) {
    reloadAgain = true;
    return;
  }
  reloading = (async () => {
    do {
      reloadAgain = false;
      for (const fn of reloaders) await Promise.resolve().then(fn);
    } while (reloadAgain);
  })()
    .catch(() => {}) // each reloader logs its own failure
    .finally(() => {
      reloading = null;
    });
}

/**
 * Runs `fn` (drain and close) on the first SIGTERM or SIGINT, then exits 0;
 * a second signal exits at once (1). Stoppers run in the order registered.
 */
export function onShutdown(fn: Task, log?: Logger): void {
  stoppers.push(fn);
  if (shutdownInstalled) return;
  shutdownInstalled = true;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      log?.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    log?.info({ signal }, 'draining, then exiting');
    void (async () => {
      for (const stop of stoppers) {
        try {
          await stop();
        } catch (e) {
          log?.error({ err: (e as Error).message }, 'error while shutting down');
        }
      }
      process.exit(0);
    })();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** True once a shutdown signal arrived. */
export const isShuttingDown = () => shuttingDown;
