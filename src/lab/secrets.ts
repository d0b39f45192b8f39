// How the lab hands secrets to the servers it runs: never in argv (every user
// of the machine reads /proc/PID/cmdline), by environment (/proc/PID/environ
// is readable by the owner only) or by a 0600 file in a 0700 directory. The
// generated config refers to a secret by the name of its variable
// (control.tokens[].env), so the config files themselves hold none.
import { chmodSync, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';

/** A directory only the owner can enter (0700, also when it already existed). */
export function privateDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  return path;
}

/** Writes one secret to PATH, mode 0600 from the start (no moment at 0644), and returns PATH. */
export function writeSecretFile(path: string, secret: string): string {
  const fd = openSync(path, 'w', 0o600);
  try {
    chmodSync(path, 0o600); // the file may have existed with a looser mode
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** The environment of one lab child: the lab's own, its log level, and only the secrets that child needs. */
export function childEnv(secrets: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, MERIDIAN_LOG_LEVEL: process.env.MERIDIAN_LOG_LEVEL ?? 'warn', ...secrets };
}
