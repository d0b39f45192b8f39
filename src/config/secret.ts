import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { MeridianError } from '../errors.js';
import { readSecretFile, type Warn } from './secret-file.js';

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

export { readSecretFile, type SecretFileOptions, type Warn, warnToStderr } from './secret-file.js';

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
