import type { ControlConfig, ControlRole } from '../config/index.js';
import { BearerSecret, bearerToken, readSecret, readSecretEnv, type Warn } from '../config/secret.js';
import { MeridianError } from '../errors.js';

export interface Principal {
  name: string;
  role: ControlRole;
  /** Agents only: the regions it may report for; '*' is any. */
  regions?: readonly string[];
}

interface Known extends Principal {
  secret: BearerSecret;
}

/**
 * The one table of who may use what. Routes name one of these in their
 * config (`roles`, and `dryRunRoles` only where the route has a read-only
 * dry run); nothing else grants access. admin may do all an operator may,
 * nothing more today; agents are machines (edges, DNS), never people.
 */
export const ROLES = {
  read: ['viewer', 'operator', 'admin'] as ControlRole[],
  feed: ['viewer', 'operator', 'admin', 'agent'] as ControlRole[],
  operate: ['operator', 'admin'] as ControlRole[],
  report: ['agent'] as ControlRole[],
};

export const ROLE_NAMES: readonly ControlRole[] = ['viewer', 'operator', 'admin', 'agent'];

/** Whether an agent token may report health for `region`. */
export function mayReportFor(p: Principal, region: string): boolean {
  return p.role === 'agent' && (p.regions ?? []).some((r) => r === '*' || r === region);
}

/**
 * One MERIDIAN_TOKENS entry: `name:role:token`, and for agents
 * `name:agent@REGION[+REGION...]:token` (`agent@*` any region, `agent@` none).
 */
function parseEnvToken(item: string): Known {
  const [name, roleSpec = '', ...rest] = item.split(':');
  const secret = rest.join(':');
  const [role, regionList] = roleSpec.split('@') as [ControlRole, string | undefined];
  const fail = (why: string): never => {
    throw new MeridianError(
      'CONFIG_INVALID',
      'MERIDIAN_TOKENS: expected name:role:token, or name:agent@REGION[+REGION]:token (token 16+ chars)',
      [`bad entry for "${name}": ${why}`],
    );
  };
  if (!ROLE_NAMES.includes(role)) fail(`unknown role "${role}"`);
  if (secret.length < 16) fail('token shorter than 16 characters');
  if (role === 'agent' && regionList === undefined) fail('an agent token needs @REGION (or @* for any)');
  if (role !== 'agent' && regionList !== undefined) fail('only agent tokens take @REGION');
  const regions = regionList?.split('+').filter(Boolean);
  return { name, role, secret: new BearerSecret(secret), ...(regions ? { regions } : {}) };
}

/** A control.tokens entry's secret: inline, from its environment variable, or from its file. */
function configuredToken(
  t: ControlConfig['tokens'][number],
  where: string,
  env: NodeJS.ProcessEnv,
  warn?: Warn,
): string {
  if (t.token !== undefined) return t.token;
  if (t.env !== undefined) return readSecretEnv(t.env, `${where}.env`, env);
  // As edge secrets: trimmed, 16 characters at least, the same as an inline token.
  return readSecret(`file:${t.file}`, `${where}.file`, { warn });
}

/**
 * Bearer tokens from the config (inline, environment variable or file) and
 * MERIDIAN_TOKENS, each compared as a BearerSecret: constant-time over
 * SHA-256 digests, so neither content nor length leaks through timing.
 */
export class TokenAuth {
  private readonly known: Known[] = [];

  /** `warn` hears about token files others may read (stderr when not given). */
  constructor(
    config: ControlConfig,
    env: NodeJS.ProcessEnv = process.env,
    regionIds?: readonly string[],
    warn?: Warn,
  ) {
    config.tokens.forEach((t, i) => {
      this.known.push({
        name: t.name,
        role: t.role,
        secret: new BearerSecret(configuredToken(t, `control.tokens[${i}]`, env, warn)),
        ...(t.regions ? { regions: t.regions } : {}),
      });
    });
    for (const item of (env.MERIDIAN_TOKENS ?? '').split(',').filter(Boolean)) {
      const token = parseEnvToken(item);
      const unknown = token.regions?.find((r) => r !== '*' && regionIds && !regionIds.includes(r));
      if (unknown !== undefined) {
        throw new MeridianError('CONFIG_INVALID', `MERIDIAN_TOKENS: "${token.name}" names unknown region`, [
          `"${unknown}" is not in regions`,
        ]);
      }
      this.known.push(token);
    }
  }

  get size() {
    return this.known.length;
  }

  /** The principal an Authorization header proves, or UNAUTHORIZED. */
  authenticate(header: string | undefined): Principal {
    const token = bearerToken(header);
    if (token === null)
      throw new MeridianError('UNAUTHORIZED', 'missing bearer token: send "Authorization: Bearer TOKEN"');
    const given = BearerSecret.digest(token);
    let found: Known | undefined;
    // Visit every token, match or not: the time taken does not say which matched.
    for (const k of this.known) if (k.secret.matches(given) && !found) found = k;
    if (!found) throw new MeridianError('UNAUTHORIZED', 'unknown bearer token');
    return { name: found.name, role: found.role, ...(found.regions ? { regions: found.regions } : {}) };
  }

  /** FORBIDDEN unless the principal's role is one of `allowed`. */
  authorize(who: Principal, allowed: readonly ControlRole[], what: string): Principal {
    if (!allowed.includes(who.role)) {
      throw new MeridianError(
        'FORBIDDEN',
        `token "${who.name}" has role ${who.role}; ${what} needs ${allowed.join(' or ')}`,
      );
    }
    return who;
  }

  /** The principal for an Authorization header, or UNAUTHORIZED / FORBIDDEN. */
  check(header: string | undefined, allowed: readonly ControlRole[], what: string): Principal {
    return this.authorize(this.authenticate(header), allowed, what);
  }
}
