import type { FastifyInstance, RouteOptions } from 'fastify';

interface Documented {
  method: string;
  url: string;
  schema?: Record<string, unknown>;
  roles?: string[];
  dryRunRoles?: string[];
}

/** Collects every route's JSON schemas as it is registered, and serves them as OpenAPI 3.1. */
export function openApi(app: FastifyInstance, version: string) {
  const routes: Documented[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || route.url === '/openapi.json') continue;
      const { roles, dryRunRoles } = (route.config ?? {}) as { roles?: string[]; dryRunRoles?: string[] };
      routes.push({
        method,
        url: route.url,
        schema: route.schema as Record<string, unknown>,
        roles,
        dryRunRoles,
      });
    }
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of routes) {
      const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const s = r.schema ?? {};
      const params = (s.params as { properties?: Record<string, unknown> })?.properties ?? {};
      const query = (s.querystring as { properties?: Record<string, unknown> })?.properties ?? {};
      const op: Record<string, unknown> = {
        summary: s.summary,
        description: s.description,
        parameters: [
          ...Object.entries(params).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
          ...Object.entries(query).map(([name, schema]) => ({ name, in: 'query', schema })),
        ],
        responses: Object.fromEntries(
          Object.entries((s.response as Record<string, unknown>) ?? { 200: {} }).map(([code, schema]) => [
            code,
            { description: String(code), content: { 'application/json': { schema } } },
          ]),
        ),
      };
      if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: s.body } } };
      if (r.roles) {
        op.security = [{ bearer: [] }];
        op['x-roles'] = r.roles;
        if (r.dryRunRoles) op['x-dry-run-roles'] = r.dryRunRoles;
      }
      paths[path] = { ...(paths[path] ?? {}), [r.method.toLowerCase()]: op };
    }
    return {
      openapi: '3.1.0',
      info: { title: 'Meridian control plane', version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      paths,
    };
  });
}
