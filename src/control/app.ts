import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ControlRole } from '../config/index.js';
import { isMeridianError, MeridianError } from '../errors.js';
import { accessTable } from './access.js';
import type { ControlContext } from './context.js';
import { registerDashboard } from './dashboard.js';
import { FORWARDED, writeOnLeader } from './leader-write.js';
import { openApi } from './openapi.js';
import { rolloutRoutes } from './rollout/routes.js';
import { readRoutes } from './routes-read.js';
import { writeRoutes } from './routes-write.js';

export interface AppOptions {
  https?: { cert: Buffer; key: Buffer };
}

/** The control API as a fastify app: auth, errors from the registry, metrics, OpenAPI. */
export async function buildApp(ctx: ControlContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    ...(options.https ? { https: options.https } : {}),
    bodyLimit: 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
  }) as unknown as FastifyInstance;
  const access = accessTable(app);
  app.decorate('access', access);
  openApi(app, '0.1.0');

  // Who the caller is, before the body is read: no token, no parsing.
  app.addHook('onRequest', async (req) => {
    const cfg = req.routeOptions.config;
    if (!req.routeOptions.url || cfg.public) return;
    req.principal = ctx.auth.authenticate(req.headers.authorization);
  });

  // What the caller may do, before validation (a refusal never depends on the body being valid).
  app.addHook('preValidation', async (req, reply) => {
    const cfg = req.routeOptions.config;
    if (!req.routeOptions.url || cfg.public) return;
    // Only a route that declares a read-only dry run relaxes its roles for one; no body can.
    const dryRun =
      cfg.dryRunRoles !== undefined && (req.body as { dryRun?: unknown } | null)?.dryRun === true;
    const roles = (dryRun ? cfg.dryRunRoles : cfg.roles) as ControlRole[];
    ctx.auth.authorize(req.principal!, roles, cfg.what ?? `${req.method} ${req.url}`);
    if (cfg.write && !dryRun && !ctx.leadership.isLeader) {
      const leader = await ctx.leadership.leader().catch(() => null);
      // A write on a follower goes to the leader (once: never from one follower to another), so the
      // dashboard and the CLI work against any instance; the leader checks the token again.
      const answer =
        leader && leader !== ctx.instance && req.headers[FORWARDED] === undefined
          ? await writeOnLeader(ctx, req, leader)
          : null;
      if (answer) return reply.code(answer.status).type('application/json').send(answer.body);
      throw new MeridianError(
        'NOT_LEADER',
        `this control instance is not the leader; send it to ${leader ?? 'the leader (none elected yet)'}`,
        leader ? [`leader: ${leader}`] : [],
      );
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.requests.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });

  app.setErrorHandler((error: FastifyError | MeridianError, req, reply) => {
    let e: MeridianError;
    if (isMeridianError(error)) e = error;
    else if ((error as FastifyError).validation) {
      e = new MeridianError(
        'BAD_REQUEST',
        `invalid request: ${error.message}`,
        ((error as FastifyError).validation ?? []).map((v) => `${v.instancePath || '(body)'} ${v.message}`),
      );
    } else if ((error as FastifyError).statusCode && (error as FastifyError).statusCode! < 500) {
      e = new MeridianError('BAD_REQUEST', error.message);
    } else {
      ctx.log.error({ err: error.message, stack: error.stack, url: req.url }, 'request failed');
      e = new MeridianError('INTERNAL', 'internal error');
    }
    ctx.metrics.errors.inc({ part: 'control', code: e.code });
    if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') {
      ctx.log.warn({ code: e.code, method: req.method, url: req.url, ip: req.ip }, e.message);
      if (e.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="meridian"');
    }
    reply.status(e.spec.httpStatus).send({ error: e.toJSON() });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({
      error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}; see /openapi.json` },
    });
  });

  readRoutes(app, ctx);
  writeRoutes(app, ctx);
  rolloutRoutes(app, ctx);
  registerDashboard(app, ctx);
  return app;
}
