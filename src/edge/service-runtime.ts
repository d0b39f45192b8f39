import type { EdgeConfig, MeridianConfig, ServiceConfig } from '../config/index.js';
import { ConcurrencyLimiter } from './limiter.js';
import { OriginSet } from './origins/origin-set.js';
import { PRIORITY_BY_NAME } from './priority.js';

const ALWAYS_IDEMPOTENT = ['GET', 'HEAD', 'OPTIONS'];

/** A service as this edge runs it: its local origins, limiter and retry rules. */
export class ServiceRuntime {
  readonly origins: OriginSet | null;
  readonly limiter: ConcurrencyLimiter;
  readonly idempotent: ReadonlySet<string>;
  readonly retryStatuses: ReadonlySet<number>;
  readonly priorities: readonly { pathPrefix: string; priority: number }[];

  constructor(
    readonly config: ServiceConfig,
    region: string,
    edge: EdgeConfig,
  ) {
    const own = edge.services.find((s) => s.name === config.name);
    const urls = config.origins.find((o) => o.region === region)?.urls ?? [];
    this.origins =
      urls.length === 0
        ? null
        : new OriginSet(
            urls,
            region,
            {
              connections: edge.connectionsPerOrigin,
              connectTimeout: edge.timeouts.connect,
              headersTimeout: edge.timeouts.headers,
              idleTimeout: edge.timeouts.idle,
            },
            edge.passiveHealth,
            edge.passiveHealth.maxEjectedPercent,
          );
    this.limiter = new ConcurrencyLimiter({
      ...edge.shedding,
      maxInFlight: own?.maxInFlight ?? edge.shedding.maxInFlight,
    });
    this.idempotent = new Set([...ALWAYS_IDEMPOTENT, ...(own?.idempotentMethods ?? [])]);
    this.retryStatuses = new Set(own?.retryStatuses ?? [502, 503, 504]);
    this.priorities = (own?.priorities ?? []).map((p) => ({
      pathPrefix: p.pathPrefix,
      priority: PRIORITY_BY_NAME.get(p.class)!,
    }));
  }

  get name(): string {
    return this.config.name;
  }
}

/** Host (lower case, no port) -> service. */
export function servicesByHost(config: MeridianConfig, region: string): Map<string, ServiceRuntime> {
  const map = new Map<string, ServiceRuntime>();
  for (const s of config.services) map.set(s.hostname, new ServiceRuntime(s, region, config.edge));
  return map;
}
