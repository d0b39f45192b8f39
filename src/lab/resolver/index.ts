import { BuiltinResolver } from './builtin.js';
import type { ResolverOptions, RunningResolver } from './types.js';
import { findUnbound, startUnbound } from './unbound.js';

export type { Nameserver, ResolverOptions, RunningResolver } from './types.js';

/**
 * The caching recursive resolver the lab's virtual users ask: Unbound when
 * it is installed (unless `prefer: 'builtin'`), else the built-in one.
 * `kind` and `description` say which ran.
 */
export async function startResolver(o: ResolverOptions): Promise<RunningResolver> {
  const unbound = o.prefer === 'builtin' ? null : findUnbound();
  if (unbound) return startUnbound(unbound, o);
  const builtin = await BuiltinResolver.start({ nameservers: o.nameservers });
  return {
    kind: 'builtin',
    description: 'built-in',
    address: builtin.address,
    port: builtin.port,
    stop: () => builtin.close(),
  };
}
