import { createHash, timingSafeEqual } from 'node:crypto';
import type { ControlConfig, ControlRole } from '../config/index.js';
import { MeridianError } from '../errors.js';

export interface Principal {
  name: string;
  role: ControlRole;
}

interface Known extends Principal {
  digest: Buffer;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Which roles may use a route. Operators can do whatever viewers can. */
export const ROLES = {
  read: ['viewer', 'operator'] as ControlRole[],
  feed: ['viewer', 'operator', 'agent'] as ControlRole[],
  operate: ['operator'] as ControlRole[],
  report: ['agent'] as ControlRole[],
};

/**
 * Bearer tokens from the config (inline or named environment variable) and
 * MERIDIAN_TOKENS ("name:role:token,..."). Comparison is constant-time over
 * SHA-256 digests, so neither content nor length leaks through timing.
 */
export class TokenAuth {
  private readonly known: Known[] = [];

  constructor(config: ControlConfig, env: NodeJS.ProcessEnv = process.env) {
    for (const t of config.tokens) {
      const secret = t.token ?? env[t.env!];
      if (!secret) {
        throw new MeridianError('CONFIG_INVALID', `control.tokens: environment variable ${t.env} is not set`);
      }
      this.known.push({ name: t.name, role: t.role, digest: digest(secret) });
    }
    for (const item of (env.MERIDIAN_TOKENS ?? '').split(',').filter(Boolean)) {
      const [name, role, ...rest] = item.split(':');
      const secret = rest.join(':');
      if (!['viewer', 'operator', 'agent'].includes(role) || secret.length < 16) {
        throw new MeridianError(
          'CONFIG_INVALID',
          'MERIDIAN_TOKENS: expected name:role:token (token 16+ chars)',
          [`bad entry for "${name}"`],
        );
      }
      this.known.push({ name, role: role as ControlRole, digest: digest(secret) });
    }
  }

  get size() {
    return this.known.length;
  }

  /** The principal for an Authorization header, or UNAUTHORIZED / FORBIDDEN. */
  check(header: string | undefined, allowed: readonly ControlRole[], what: string): Principal {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m)
      throw new MeridianError('UNAUTHORIZED', 'missing bearer token: send "Authorization: Bearer TOKEN"');
    const given = digest(m[1]);
    let found: Known | undefined;
    // Visit every token, match or not: the time taken does not say which matched.
    for (const k of this.known) if (timingSafeEqual(k.digest, given) && !found) found = k;
    if (!found) throw new MeridianError('UNAUTHORIZED', 'unknown bearer token');
    if (!allowed.includes(found.role)) {
      throw new MeridianError(
        'FORBIDDEN',
        `token "${found.name}" has role ${found.role}; ${what} needs ${allowed.join(' or ')}`,
      );
    }
    return { name: found.name, role: found.role };
  }
}
