import type { FastifyInstance, RouteOptions } from 'fastify';
import type { ControlRole } from '../config/index.js';
import { ROLE_NAMES } from './auth.js';

/** One registered route and who may call it, as the server enforces it. */
export interface RouteAccess {
  method: string;
  url: string;
  /** No token needed. */
  public: boolean;
  roles: readonly ControlRole[];
  /** Roles that may call it with `"dryRun": true` in the body (a read-only plan); absent: none extra. */
  dryRunRoles?: readonly ControlRole[];
  /** Has a JSON body. */
  body: boolean;
}

/**
 * Records every route as fastify registers it and refuses, at registration,
 * a route that says neither who may call it (`roles`) nor that it is
 * `public`: a forgotten `roles` fails closed at startup, not open in production.
 */
export function accessTable(app: FastifyInstance): RouteAccess[] {
  const table: RouteAccess[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const cfg = (route.config ?? {}) as {
      roles?: ControlRole[];
      dryRunRoles?: ControlRole[];
      public?: boolean;
    };
    const name = `${route.method} ${route.url}`;
    if (!cfg.public && !cfg.roles?.length)
      throw new Error(`control route ${name} declares neither roles nor public: true`);
    if (cfg.public && (cfg.roles || cfg.dryRunRoles))
      throw new Error(`control route ${name} is public and has roles`);
    for (const r of [...(cfg.roles ?? []), ...(cfg.dryRunRoles ?? [])])
      if (!ROLE_NAMES.includes(r)) throw new Error(`control route ${name}: unknown role ${r}`);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      table.push({
        method,
        url: route.url,
        public: cfg.public === true,
        roles: cfg.roles ?? [],
        ...(cfg.dryRunRoles ? { dryRunRoles: cfg.dryRunRoles } : {}),
        body: Boolean((route.schema as { body?: unknown } | undefined)?.body),
      });
    }
  });
  return table;
}
