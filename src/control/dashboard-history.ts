import type { FastifyInstance } from 'fastify';
import { type EdgeReport, edgeReportSchema } from '../feed/report.js';
import { ROLES } from './auth.js';
import type { ControlContext } from './context.js';
import { readFromLeader } from './leader-read.js';

export interface RegionSample {
  id: string;
  requestsPerS: number;
  /** Requests/s served in this region: its share of traffic is load / sum of loads. */
  load: number;
  capacity: number;
  errorRate: number;
  p99Ms: number;
  replicationLagMs: number | null;
}

export interface Sample {
  at: number;
  regions: RegionSample[];
}

const KEEP = 900; // 15 minutes at one sample a second

/**
 * One sample a second of what each region's edge last reported, for the
 * dashboard's charts (the snapshot carries load only, and only when it moves
 * materially). Regions whose report went stale are left out of a sample.
 */
export class ReportHistory {
  private readonly latest = new Map<string, { report: EdgeReport; receivedAt: number }>();
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly staleAfterMs: number) {}

  start(intervalMs = 1000) {
    this.timer = setInterval(() => this.sample(Date.now()), intervalMs);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  accept(report: EdgeReport, now: number) {
    this.latest.set(report.region, { report, receivedAt: now });
  }

  sample(now: number) {
    const regions: RegionSample[] = [];
    for (const [id, { report, receivedAt }] of this.latest) {
      if (now - receivedAt > this.staleAfterMs) continue;
      regions.push({
        id,
        requestsPerS: round(report.requestsPerS),
        load: round(report.load),
        capacity: report.capacity,
        errorRate: Math.round(report.errorRate * 10_000) / 10_000,
        p99Ms: round(report.p99Ms),
        replicationLagMs: report.replicationLagMs ?? null,
      });
    }
    this.samples.push({ at: now, regions });
    if (this.samples.length > KEEP) this.samples.splice(0, this.samples.length - KEEP);
  }

  since(at: number): Sample[] {
    let i = this.samples.length;
    while (i > 0 && this.samples[i - 1].at > at) i--;
    return this.samples.slice(i);
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

/**
 * Read-only routes for the dashboard. The history listens to accepted edge
 * reports through an onResponse hook, so the report route itself is untouched.
 */
export function dashboardRoutes(app: FastifyInstance, ctx: ControlContext) {
  const history = new ReportHistory(ctx.config.control.health.reportStaleAfter);
  history.start();
  app.addHook('onClose', async () => history.stop());
  app.addHook('onResponse', async (req, reply) => {
    if (req.method !== 'POST' || req.routeOptions.url !== '/v1/reports' || reply.statusCode !== 202) return;
    const parsed = edgeReportSchema.safeParse(req.body);
    if (parsed.success) history.accept(parsed.data, Date.now());
  });

  app.get(
    '/v1/dashboard/session',
    {
      config: { roles: ROLES.read, what: 'opening the dashboard' },
      schema: { summary: 'Who the token belongs to, its role, and the gate limits (for the dashboard)' },
    },
    async (req) => {
      const g = ctx.config.control.gates;
      return {
        name: req.principal!.name,
        role: req.principal!.role,
        gates: { errorRate: g.errorRate, p99Ms: g.p99, maxLoad: g.maxLoad, margin: g.margin },
      };
    },
  );

  app.get(
    '/v1/dashboard/history',
    {
      config: { roles: ROLES.read, what: 'reading the dashboard history' },
      schema: {
        summary: 'Per-region samples (one a second, last 15 minutes) of edge reports, newer than `since`',
        querystring: {
          type: 'object',
          properties: { since: { type: 'number', minimum: 0, default: 0 } },
        },
      },
    },
    async (req) =>
      (await readFromLeader(ctx, req)) ?? {
        now: Date.now(),
        samples: history.since((req.query as { since: number }).since),
      },
  );
}
