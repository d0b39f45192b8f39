import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { ended, finishEntry } from '../core/operations/index.js';
import { MeridianError } from '../errors.js';
import { parseEdgeReport } from '../feed/report.js';
import { mayReportFor, type Principal, ROLES } from './auth.js';
import type { ControlContext } from './context.js';
import { forgetFailedOver, type MoveRequest } from './operation-plan.js';
import { forgetOutlier } from './outlier-record.js';
import { dialBodySchema, errorSchema, moveBodySchema, operationSchema, reportSchema } from './schemas.js';
import type { AuditEntry, OperationRecord } from './store/index.js';

async function forwardReport(ctx: ControlContext, authorization: string | undefined, body: unknown) {
  const leader = await ctx.leadership.leader().catch(() => null);
  if (!leader || leader === ctx.instance) return;
  try {
    const res = await request(new URL('/v1/reports', leader), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: authorization ?? '' },
      body: JSON.stringify(body),
      headersTimeout: 800,
      bodyTimeout: 800,
    });
    await res.body.dump();
  } catch (e) {
    ctx.log.debug({ leader, err: (e as Error).message }, 'report not forwarded to the leader');
  }
}

const refusedAudited = new WeakMap<ControlContext, Map<string, number>>();
const AUDIT_REFUSED_EVERY_MS = 60_000;

/**
 * An agent reporting for a region it is not bound to: a leaked or misused
 * token. Logged every time; audited once a minute per token and region, so a
 * flood of forged reports cannot flood the audit log.
 */
async function refuseReport(ctx: ControlContext, who: Principal, region: string, ip: string): Promise<never> {
  const message = `token "${who.name}" may report for ${who.regions?.join(', ') || 'no region'}, not "${region}"`;
  ctx.log.warn({ token: who.name, region, ip }, `report refused: ${message}`);
  const seen = refusedAudited.get(ctx) ?? new Map<string, number>();
  refusedAudited.set(ctx, seen);
  // Keyed by configured regions only, so made-up region names cannot grow the map.
  const known = ctx.config.regions.some((r) => r.id === region);
  const key = `${who.name}\n${known ? region : '(unknown)'}`;
  const now = Date.now();
  if (now - (seen.get(key) ?? -Infinity) >= AUDIT_REFUSED_EVERY_MS) {
    seen.set(key, now);
    const entry: AuditEntry = {
      at: now,
      who: who.name,
      role: who.role,
      action: 'report-refused',
      target: region,
      reason: message,
      details: { ip, allowed: who.regions ?? [] },
    };
    ctx.log.info({ audit: entry }, `${who.name} report-refused ${region}`);
    await ctx.keeper.store
      .record(entry)
      .catch((e) => ctx.log.error({ err: (e as Error).message }, 'audit of a refused report not stored'));
  }
  throw new MeridianError('FORBIDDEN', message);
}

export function writeRoutes(app: FastifyInstance, ctx: ControlContext) {
  const refused = { 401: errorSchema, 403: errorSchema, 409: errorSchema, 503: errorSchema };

  app.post(
    '/v1/reports',
    {
      config: { roles: ROLES.report, what: 'reporting edge health' },
      schema: {
        summary: 'An edge reports origin health, errors, latency, load and demand (every second)',
        body: reportSchema,
        response: { 202: { type: 'object', properties: { accepted: { type: 'boolean' } } }, ...refused },
      },
    },
    async (req, reply) => {
      const report = parseEdgeReport(req.body);
      const who = req.principal!;
      if (!mayReportFor(who, report.region)) await refuseReport(ctx, who, report.region, req.ip);
      if (!ctx.config.regions.some((r) => r.id === report.region)) {
        throw new MeridianError('UNKNOWN_REGION', `report for unknown region "${report.region}"`);
      }
      ctx.observer.accept(report, Date.now());
      ctx.rollouts.samples.accept(report, Date.now());
      // Health is decided on the leader: a follower passes the report on (best effort, not awaited).
      if (!ctx.leadership.isLeader) void forwardReport(ctx, req.headers.authorization, req.body);
      reply.status(202);
      return { accepted: true };
    },
  );

  app.put(
    '/v1/regions/:region/dial',
    {
      config: { roles: ROLES.operate, what: 'setting a dial', write: true },
      schema: {
        summary: 'Set a region dial directly (0-100: the share of its home clients it keeps)',
        params: { type: 'object', properties: { region: { type: 'string' } }, required: ['region'] },
        body: dialBodySchema,
        response: { 404: errorSchema, ...refused },
      },
    },
    async (req) => {
      const { region } = req.params as { region: string };
      const { dial, reason = '' } = req.body as { dial: number; reason?: string };
      const who = req.principal!;
      const moving = (op: OperationRecord | null): op is OperationRecord =>
        op?.status === 'running' && op.region === region;
      const running = ctx.keeper.current().operation;
      if (moving(running) && !running.auto) {
        throw new MeridianError('CONFLICT', `operation ${running.id} is moving ${region}; abort it first`);
      }
      const state = await ctx.keeper.change((draft) => {
        const r = draft.snapshot.regions.find((x) => x.id === region);
        if (!r) throw new MeridianError('UNKNOWN_REGION', `no region "${region}"`);
        const now = Date.now();
        const entries: AuditEntry[] = [];
        const op = draft.operation;
        if (moving(op)) {
          if (!op.auto)
            throw new MeridianError('CONFLICT', `operation ${op.id} is moving ${region}; abort it first`);
          // The operator's dial replaces control's automatic restore of the region.
          draft.operation = ended(op, 'aborted', `superseded by ${who.name}'s dial ${dial}`, now);
          entries.push(finishEntry(draft.operation, 'aborted', now));
        }
        const remembered = (draft.failedOver ?? []).some((f) => f.region === region);
        forgetFailedOver(draft, region);
        // And control's automatic outlier handling of it.
        const outlier = forgetOutlier(draft, region);
        if (r.dial === dial && entries.length === 0 && !remembered && !outlier) return null;
        const before = r.dial;
        r.dial = dial;
        entries.push({
          at: now,
          who: who.name,
          role: who.role,
          action: 'dial',
          target: region,
          reason,
          details: { from: before, to: dial },
        });
        return entries;
      });
      // Control leaves the region's relative health to the operator until it is fine again.
      ctx.outlier.leaveAlone(region);
      const current = ctx.keeper.current();
      return { region, dial, version: state?.version ?? current.version, changed: state !== null };
    },
  );

  app.post(
    '/v1/operations',
    {
      config: {
        roles: ROLES.operate,
        // Only the plan: start() returns before it changes anything when dryRun is true.
        dryRunRoles: ROLES.read,
        what: 'evacuating or restoring a region',
        write: true,
      },
      schema: {
        summary: 'Plan (dryRun) or start an evacuation or restore',
        description:
          'Refused with the numbers when the receiving regions lack headroom (20 % margin), unless a scale-up webhook is configured.',
        body: moveBodySchema,
        response: { 404: errorSchema, 400: errorSchema, ...refused },
      },
    },
    async (req, reply) => {
      const body = req.body as MoveRequest & { steps?: number[] };
      const dial = ctx.keeper.snapshot().regions.get(body.region)?.dial;
      const steps = body.steps ?? defaultSteps(body.kind, dial);
      const result = await ctx.operations.start({ ...body, steps }, req.principal!);
      if (result.operation) reply.status(201);
      return result;
    },
  );

  app.post(
    '/v1/operations/:id/abort',
    {
      config: { roles: ROLES.operate, what: 'aborting an operation', write: true },
      schema: {
        summary: 'Stop the running operation where it is (the dial stays at the last applied step)',
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        body: { type: 'object', properties: { reason: { type: 'string', default: '' } } },
        response: {
          200: { type: 'object', properties: { operation: operationSchema } },
          404: errorSchema,
          ...refused,
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const reason = (req.body as { reason?: string } | undefined)?.reason ?? '';
      return { operation: await ctx.operations.abort(id, req.principal!, reason) };
    },
  );
}

/**
 * Default steps go one way from where the dial is now: a restore of a region
 * already at 100 % must not first drop it to 25 %. At the target already: one
 * step that changes nothing.
 */
export function defaultSteps(kind: 'evacuate' | 'restore', dial: number | undefined): number[] {
  const steps = kind === 'evacuate' ? [75, 50, 25, 0] : [25, 50, 75, 100];
  if (dial === undefined) return steps;
  const ahead = steps.filter((s) => (kind === 'evacuate' ? s < dial : s > dial));
  return ahead.length > 0 ? ahead : [steps.at(-1)!];
}
