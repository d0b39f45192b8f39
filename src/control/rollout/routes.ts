import type { FastifyInstance } from 'fastify';
import type { RolloutRecord } from '../../core/operations/rollout.js';
import { ROLES } from '../auth.js';
import type { ControlContext } from '../context.js';
import { readFromLeader } from '../leader-read.js';
import { errorSchema } from '../schemas.js';
import type { RolloutRequest } from './runner.js';
import { rolloutBodySchema, rolloutOrNullSchema, rolloutRecordSchema } from './schema.js';

export function rolloutRoutes(app: FastifyInstance, ctx: ControlContext) {
  const refused = {
    401: errorSchema,
    403: errorSchema,
    404: errorSchema,
    409: errorSchema,
    503: errorSchema,
  };
  const one = { 200: { type: 'object', properties: { rollout: rolloutRecordSchema } }, ...refused };

  app.post(
    '/v1/rollouts',
    {
      config: { roles: ROLES.operate, dryRunRoles: ROLES.read, what: 'starting a rollout', write: true },
      schema: {
        summary: 'Start a staged rollout of a version (dryRun: only the record it would start)',
        description:
          'Runs the plan of meridian.yaml `rollout` (or the waves given) region by region: drain, deploy, verify, canary, ramp, judging at every step; rolls back every region reached when a judgement or an action fails. 409 when a rollout or an operation is running.',
        body: rolloutBodySchema,
        response: { ...one, 201: one[200], 400: errorSchema },
      },
    },
    async (req, reply) => {
      const body = req.body as RolloutRequest;
      const rollout = await ctx.rollouts.begin(body, req.principal!);
      if (!body.dryRun) reply.status(201);
      return { rollout };
    },
  );

  app.get(
    '/v1/rollouts/current',
    {
      config: { roles: ROLES.read, what: 'reading rollouts' },
      schema: {
        summary: 'The running or last rollout',
        response: { 200: { type: 'object', properties: { rollout: rolloutOrNullSchema } }, ...refused },
      },
    },
    async (req) =>
      ((await readFromLeader(ctx, req)) as { rollout: RolloutRecord | null } | null) ?? {
        rollout: ctx.keeper.current().rollout ?? null,
      },
  );

  const command = (name: 'pause' | 'resume' | 'abort', summary: string) =>
    app.post(
      `/v1/rollouts/:id/${name}`,
      {
        config: {
          roles: ROLES.operate,
          what: `${name === 'abort' ? 'aborting' : `${name.slice(0, -1)}ing`} a rollout`,
          write: true,
        },
        schema: {
          summary,
          params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
          body: {
            type: ['object', 'null'],
            properties: { reason: { type: 'string', maxLength: 500, default: '' } },
          },
          response: one,
        },
      },
      async (req) => {
        const { id } = req.params as { id: string };
        const who = req.principal!;
        const reason = (req.body as { reason?: string } | null)?.reason ?? '';
        if (name === 'pause') return { rollout: await ctx.rollouts.pause(id, who) };
        if (name === 'resume') return { rollout: await ctx.rollouts.resume(id, who) };
        return { rollout: await ctx.rollouts.abort(id, who, reason) };
      },
    );
  command('pause', 'Pause the rollout where it is (a running action finishes; dials stay)');
  command('resume', 'Resume a paused rollout (a bake starts over)');
  command(
    'abort',
    'Stop the rollout and roll back every region it reached, newest first, restoring their dials',
  );
}
