import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { MeridianError } from '../errors.js';

/**
 * Where a secret lives: `env:NAME` (an environment variable) or `file:PATH`
 * (its first line; keep the file 0600). Never the secret itself, so a config
 * file can be shown, logged and committed.
 */
export const secretRef = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/,
    'expected "env:NAME" or "file:PATH" (the secret itself does not go into the config)',
  );

/** Where a reader may warn (a secret file others can read); stderr by default, as ssh does. */
export type Warn = (message: string) => void;
export const warnToStderr: Warn = (m) => process.stderr.write(`meridian: warning: ${m}\n`);

export interface SecretFileOptions {
  /** CONFIG_INVALID for a config option (default), BAD_ARGUMENT for a command-line flag. */
  code?: 'CONFIG_INVALID' | 'BAD_ARGUMENT';
  warn?: Warn;
}

const WHY: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied' };

/**
 * The one reader of secret files, for config options and flags alike: the
 * secret is the first line, its line ending (LF or CRLF) stripped. A file the
 * group or others may read is used with a warning. Errors name `what` (the
 * config path or flag) and the file, never the content.
 */
export function readSecretFile(path: string, what: string, options: SecretFileOptions = {}): string {
  const { code = 'CONFIG_INVALID', warn = warnToStderr } = options;
  let text: string;
  let mode: number;
  try {
    // One open for both, so the mode checked is the one of the file read.
    const fd = openSync(path, 'r');
    try {
      mode = fstatSync(fd).mode;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new MeridianError(code, `${what}: cannot read secret file ${path} (${WHY[errno] ?? errno})`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    warn(`secret file ${path} is readable by others (mode ${octal}); chmod 600 ${path}`);
  }
  const secret = text.split('\n', 1)[0].replace(/\r$/, '');
  if (secret.length === 0) throw new MeridianError(code, `${what}: secret file ${path} is empty`);
  return secret;
}

/** A secret from the named environment variable; CONFIG_INVALID naming `what` when unset or empty. */
export function readSecretEnv(name: string, what: string, env: NodeJS.ProcessEnv = process.env): string {
  const secret = env[name];
  if (secret === undefined || secret === '')
    throw new MeridianError('CONFIG_INVALID', `${what}: environment variable ${name} is not set`);
  return secret;
}

const MIN_LENGTH = 16;

/**
 * The secret a `secretRef` points at, surrounding blanks trimmed; CONFIG_INVALID
 * (never the secret) when it is missing or shorter than 16 characters.
 */
export function readSecret(
  ref: string,
  what: string,
  options: { env?: NodeJS.ProcessEnv; warn?: Warn } = {},
): string {
  const secret = ref.startsWith('env:')
    ? readSecretEnv(ref.slice(4), what, options.env)
    : readSecretFile(ref.slice(5), what, { warn: options.warn });
  if (secret.trim().length < MIN_LENGTH) {
    throw new MeridianError(
      'CONFIG_INVALID',
      `${what}: expected a secret of at least ${MIN_LENGTH} characters`,
    );
  }
  return secret.trim();
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The token of an `Authorization: Bearer TOKEN` header (scheme case-insensitive), or null. */
export const bearerToken = (authorization: string | undefined): string | null =>
  /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? null;

/**
 * A bearer token to check requests against. Both sides are hashed first, so
 * the constant-time comparison leaks neither content nor length.
 */
export class BearerSecret {
  private readonly digest: Buffer;

  constructor(secret: string) {
    this.digest = digest(secret);
  }

  /** SHA-256 of a presented token: hash it once to compare it with several secrets. */
  static digest(token: string): Buffer {
    return digest(token);
  }

  /** Whether a presented token, as `BearerSecret.digest(token)`, is this one; constant-time. */
  matches(given: Buffer): boolean {
    return timingSafeEqual(this.digest, given);
  }

  /** 'missing' without an `Authorization: Bearer` header, else whether the token is this one. */
  check(authorization: string | undefined): 'missing' | 'wrong' | 'ok' {
    const token = bearerToken(authorization);
    if (token === null) return 'missing';
    return this.matches(digest(token)) ? 'ok' : 'wrong';
  }
}
