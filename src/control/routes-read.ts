import type { FastifyInstance } from 'fastify';
import { MeridianError } from '../errors.js';
import { snapshotToJson } from '../feed/codec.js';
import { ROLES } from './auth.js';
import type { ControlContext } from './context.js';
import { readFromLeader } from './leader-read.js';
import { controlRpo } from './rpo.js';
import { errorSchema, operationSchema, snapshotSchema, statusSchema } from './schemas.js';
import type { OperationRecord } from './store/index.js';

/** What a viewer sees: the full picture for `meridian status`. */
export async function statusOf(ctx: ControlContext) {
  const state = ctx.keeper.current();
  const why = new Map(state.healthWhy);
  const tracks = ctx.observer.healthTracks();
  const readings = ctx.observer.readings(Date.now());
  const reports = ctx.observer.freshReports(Date.now());
  return {
    version: state.version,
    leader: await ctx.leadership.leader().catch(() => null),
    instance: ctx.instance,
    isLeader: ctx.leadership.isLeader,
    regions: state.snapshot.regions.map((r) => ({
      id: r.id,
      name: r.name,
      health: r.health,
      why: why.get(r.id) ?? '',
      pending: tracks.get(r.id)?.pending?.health ?? null,
      dial: r.dial,
      load: r.load,
      demand: r.demand,
      capacity: r.capacity,
      /** From the region's edge's last fresh report; null when unknown. */
      replicationLagMs: readings.get(r.id)?.replicationLagMs ?? null,
      /** Retention of the other regions' streams for it (worst source, gap), from the same report; null when unknown. */
      replicationRetention: reports.get(r.id)?.replicationRetention ?? null,
      /** Set when control will bring the dial back by itself (it failed the region over). */
      autoRestore: ctx.autoRestore.pending(r.id),
    })),
    rpoMs: controlRpo(ctx.config) ?? null,
    operation: state.operation,
    /** Relative health: regions evacuated as outliers, the global condition, decisions, and each region's judgement. */
    outlier: ctx.outlier.view(),
    rollout: state.rollout ?? null,
  };
}

export function readRoutes(app: FastifyInstance, ctx: ControlContext) {
  const auth = { 401: errorSchema, 403: errorSchema };

  app.get(
    '/v1/health',
    { config: { public: true }, schema: { summary: 'Liveness; no token needed' } },
    async () => ({
      ok: true,
      version: ctx.keeper.current().version,
      isLeader: ctx.leadership.isLeader,
    }),
  );

  app.get(
    '/metrics',
    { config: { public: true }, schema: { summary: 'Prometheus metrics', hide: true } },
    async (_req, reply) => {
      reply.header('content-type', ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  );

  app.get(
    '/v1/status',
    {
      config: { roles: ROLES.read, what: 'reading status' },
      schema: {
        summary: 'Regions, health, dials, load, capacity and the running operation',
        response: { 200: statusSchema, ...auth },
      },
    },
    async (req) =>
      ((await readFromLeader(ctx, req)) as Awaited<ReturnType<typeof statusOf>>) ?? statusOf(ctx),
  );

  app.get(
    '/v1/snapshot',
    {
      config: { roles: ROLES.feed, what: 'reading the snapshot' },
      schema: {
        summary: 'The current snapshot (wire form of src/feed/codec.ts)',
        response: { 200: snapshotSchema, ...auth },
      },
    },
    async () => snapshotToJson(ctx.keeper.snapshot()),
  );

  app.get(
    '/v1/snapshots/stream',
    {
      config: { roles: ROLES.feed, what: 'following the snapshot stream' },
      schema: {
        summary: 'Server-sent events: "snapshot" with the current snapshot, then every new version',
        description:
          'Content-Type text/event-stream; each event: `event: snapshot`, `id: VERSION`, `data: SNAPSHOT_JSON`.',
      },
    },
    async (_req, reply) => {
      reply.hijack();
      ctx.stream.attach(reply.raw);
    },
  );

  app.get(
    '/v1/snapshots/:version',
    {
      config: { roles: ROLES.read, what: 'reading past snapshots' },
      schema: {
        summary: 'A past snapshot; snapshots never change once made',
        params: {
          type: 'object',
          properties: { version: { type: 'integer', minimum: 1 } },
          required: ['version'],
        },
        response: { 200: snapshotSchema, 404: errorSchema, ...auth },
      },
    },
    async (req) => {
      const { version } = req.params as { version: number };
      const snap = await ctx.keeper.store.snapshot(version);
      if (!snap)
        throw new MeridianError('NOT_FOUND', `no snapshot version ${version} (the last 1000 are kept)`);
      return snap;
    },
  );

  app.get(
    '/v1/operations/current',
    {
      config: { roles: ROLES.read, what: 'reading operations' },
      schema: {
        summary: 'The running or last operation',
        response: {
          200: { type: 'object', properties: { operation: { anyOf: [operationSchema, { type: 'null' }] } } },
          ...auth,
        },
      },
    },
    // The leader runs operations: a follower's copy can lag the start just forwarded to it.
    async (req) =>
      ((await readFromLeader(ctx, req)) as { operation: OperationRecord | null } | null) ?? {
        operation: ctx.keeper.current().operation,
      },
  );

  app.get(
    '/v1/audit',
    {
      config: { roles: ROLES.read, what: 'reading the audit log' },
      schema: {
        summary: 'Every change: who, what, why, when; newest first',
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
      },
    },
    async (req) => ({ entries: await ctx.keeper.store.audit((req.query as { limit: number }).limit) }),
  );
}
