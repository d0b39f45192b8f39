// SIGHUP's half of src/cli/lifecycle.ts: re-read the config file, say what
// changed, keep what needs a restart as it runs.
import { isMeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import { loadConfig, type MeridianConfig } from './index.js';

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
