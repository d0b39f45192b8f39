import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

const MIN_LENGTH = 16;

/** The secret a reference points at; CONFIG_INVALID (never the secret) when it is missing or short. */
export function readSecret(ref: string, what: string, env: NodeJS.ProcessEnv = process.env): string {
  let secret: string | undefined;
  if (ref.startsWith('env:')) {
    secret = env[ref.slice(4)];
    if (secret === undefined || secret === '') {
      throw new MeridianError('CONFIG_INVALID', `${what}: environment variable ${ref.slice(4)} is not set`);
    }
  } else {
    const path = ref.slice(5);
    try {
      secret = readFileSync(path, 'utf8').split(/\r?\n/)[0];
    } catch (e) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code})`,
      );
    }
  }
  if (secret.trim().length < MIN_LENGTH) {
    throw new MeridianError(
      'CONFIG_INVALID',
      `${what}: expected a secret of at least ${MIN_LENGTH} characters`,
    );
  }
  return secret.trim();
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * A bearer token to check requests against. Both sides are hashed first, so
 * the constant-time comparison leaks neither content nor length.
 */
export class BearerSecret {
  private readonly digest: Buffer;

  constructor(secret: string) {
    this.digest = digest(secret);
  }

  /** 'missing' without an `Authorization: Bearer` header, else whether the token is this one. */
  check(authorization: string | undefined): 'missing' | 'wrong' | 'ok' {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (m === null) return 'missing';
    return timingSafeEqual(this.digest, digest(m[1])) ? 'ok' : 'wrong';
  }
}
