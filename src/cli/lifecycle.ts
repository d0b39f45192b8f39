// How every daemon answers signals: SIGHUP reloads, SIGTERM/SIGINT drain
// then exit 0, a second SIGTERM/SIGINT exits at once.
import { loadConfig, type MeridianConfig } from '../config/index.js';
import { isMeridianError } from '../errors.js';
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

/** Dotted paths (two levels deep: `edge.routes`, `services`) whose values differ. */
export function changedPaths(before: unknown, after: unknown, prefix = '', depth = 2): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (depth === 0 || !isObject(before) || !isObject(after)) return [prefix || '(document)'];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .sort()
    .flatMap((k) => changedPaths(before[k], after[k], prefix ? `${prefix}.${k}` : k, depth - 1));
}

export interface ReloadResult {
  /** The new config, with the values that need a restart kept as they run. */
  config: MeridianConfig;
  changed: string[];
  needsRestart: string[];
}

/**
 * Re-reads and validates `file` through the one config loader; on success
 * logs `config reloaded` with the changed paths (those under a `restartOnly`
 * prefix as `needsRestart`) and returns the new config, on failure logs
 * `config reload failed` and returns null: the caller keeps the old config.
 */
export function reloadConfigFile(
  file: string,
  current: MeridianConfig,
  restartOnly: readonly string[],
  log: Logger,
  /** More to read before the reload counts (TLS certificate files); throws to refuse it. */
  check?: (config: MeridianConfig) => void,
): ReloadResult | null {
  let config: MeridianConfig;
  try {
    config = loadConfig(file);
    check?.(config);
  } catch (e) {
    const err = isMeridianError(e)
      ? { code: e.code, message: e.message, details: e.details }
      : { message: String(e) };
    log.error({ file, err }, 'config reload failed');
    return null;
  }
  const paths = changedPaths(current, config);
  const restart = (p: string) => restartOnly.some((r) => p === r || p.startsWith(`${r}.`));
  const needsRestart = paths.filter(restart);
  const changed = paths.filter((p) => !restart(p));
  log.info({ file, changed, needsRestart }, 'config reloaded');
  return { config: withRunning(config, current, restartOnly), changed, needsRestart };
}

/** `next` with the values at `paths` (dotted, two levels at most) taken from `running`. */
export function withRunning(
  next: MeridianConfig,
  running: MeridianConfig,
  paths: readonly string[],
): MeridianConfig {
  const out: Record<string, unknown> = { ...next };
  const from = running as unknown as Record<string, Record<string, unknown>>;
  for (const path of paths) {
    const [top, key] = path.split('.');
    if (key === undefined) out[top] = from[top];
    else out[top] = { ...(out[top] as Record<string, unknown>), [key]: from[top]?.[key] };
  }
  return out as unknown as MeridianConfig;
}
