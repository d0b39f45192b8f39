import type { MeridianConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { RouteAccess } from './access.js';
import type { Principal, TokenAuth } from './auth.js';
import type { AutoRestore } from './auto-restore.js';
import type { ControlMetrics } from './metrics.js';
import type { Observer } from './observer.js';
import type { Operations } from './operations.js';
import type { OutlierControl } from './outlier.js';
import type { RolloutRunner } from './rollout/runner.js';
import type { StateKeeper } from './state.js';
import type { SnapshotStream } from './stream.js';

/** What the routes need; built once by server.ts. */
export interface ControlContext {
  config: MeridianConfig;
  keeper: StateKeeper;
  observer: Observer;
  operations: Operations;
  autoRestore: AutoRestore;
  outlier: OutlierControl;
  rollouts: RolloutRunner;
  auth: TokenAuth;
  metrics: ControlMetrics;
  stream: SnapshotStream;
  log: Logger;
  /** This instance's URL, also its name as a leadership candidate. */
  instance: string;
  leadership: { readonly isLeader: boolean; leader(): Promise<string | null> };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route and who may call it (src/control/access.ts). */
    access: RouteAccess[];
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifySchema {
    summary?: string;
    description?: string;
    /** Left out of /openapi.json. */
    hide?: boolean;
  }
  interface FastifyContextConfig {
    /** Roles allowed to call the route (one of ROLES in auth.ts); every route has roles or public. */
    roles?: string[];
    /** Only for a route with a read-only dry run: roles that may call it with `"dryRun": true`. */
    dryRunRoles?: string[];
    /** No token needed. */
    public?: boolean;
    /** What the route does, for 403 messages. */
    what?: string;
    /** Changes state: only the leader serves it. */
    write?: boolean;
  }
}
