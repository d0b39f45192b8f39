import { isMeridianError } from '../errors.js';
import { redactUrl } from '../redact.js';

export interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Exit codes of every command: 0 ok, 1 a failure, 2 a usage error (the command line is wrong). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * BAD_ARGUMENT is the registry's usage category: a flag or argument that does not parse, a flag missing
 * its companion, a secret file a flag names that cannot be read. Anything else, an invalid config
 * file (CONFIG_INVALID) included, is a failure.
 */
export const exitCodeFor = (error: unknown) =>
  isMeridianError(error) && error.code === 'BAD_ARGUMENT' ? EXIT_USAGE : EXIT_FAILURE;

/** Reports a failure without a stack trace (the message, then each detail on its own line); returns the exit code. */
export function reportError(error: unknown, options: OutputOptions = {}): number {
  const known = isMeridianError(error);
  const code = known ? error.code : 'INTERNAL';
  // An error may quote a config value or URL: never its credentials.
  const message = redactUrl(error instanceof Error ? error.message : String(error));
  const details = (known ? error.details : []).map((d) => redactUrl(String(d)));
  if (options.json) {
    printJson({ error: { code, message, details } });
  } else {
    process.stderr.write(`meridian: ${message}\n`);
    for (const d of details) process.stderr.write(`  ${d}\n`);
    if (!known && process.env.MERIDIAN_DEBUG)
      process.stderr.write(`${redactUrl(String((error as Error).stack))}\n`);
  }
  return exitCodeFor(error);
}

/** Wraps a command action: errors become a clear message and exit code 1 (2 for a usage error). */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      const opts = args.find((a): a is OutputOptions => typeof a === 'object' && a !== null && 'json' in a);
      process.exitCode = reportError(error, opts ?? {});
    }
  };
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '))
    .join('\n');
}
