import { z } from 'zod';
import { MeridianError } from '../errors.js';

// What each edge POSTs to {control}/v1/reports every second (agent token).
// Region tables are arrays-free records on the wire; readers turn them into Maps.
export const edgeReportSchema = z.strictObject({
  region: z.string().min(1),
  /** When the edge took the numbers, ms since the epoch. */
  at: z.number().int().nonnegative(),
  origins: z.array(z.strictObject({ url: z.string(), healthy: z.boolean() })),
  requestsPerS: z.number().nonnegative(),
  /** 0-1 over the last interval: the responses clients got (after retries in other regions). */
  errorRate: z.number().min(0).max(1),
  /**
   * Attempts at this region's own origins per second (this edge's and other regions' requests,
   * retries included), and the share that failed (5xx or no answer) before any retry elsewhere:
   * what control's relative health judges. Absent from older edges (then errorRate stands in).
   */
  originRequestsPerS: z.number().nonnegative().optional(),
  originErrorRate: z.number().min(0).max(1).optional(),
  /** Over every response this edge sent (bridged ones included). */
  p99Ms: z.number().nonnegative(),
  /** Of the attempts at this region's own origins only: what a canary judgement compares. */
  originP99Ms: z.number().nonnegative().optional(),
  /** Requests per second this edge served. */
  load: z.number().nonnegative(),
  capacity: z.number().nonnegative(),
  /** Requests/s of clients by their decide() home region. */
  demandByHome: z.record(z.string(), z.number().nonnegative()),
  /** Other regions' edges this edge reached on its last probe. */
  peers: z.record(z.string(), z.boolean()),
  replicationLagMs: z.number().nonnegative().optional(),
  /** Retention of the other regions' streams for this region (src/replication/retention.ts), the worst source. */
  replicationRetention: z
    .strictObject({
      /** Seconds before the oldest event not yet taken ages out; null when no stream is bounded by age. */
      headroomS: z.number().nonnegative().nullable(),
      /** Headroom below 25 % of maxAge for some source. */
      low: z.boolean(),
      /** Events aged out untaken: a resync is needed. */
      gap: z.boolean(),
      /** The sources with a gap. */
      gapFrom: z.array(z.string().min(1).max(64)).max(64),
    })
    .optional(),
});

export type EdgeReport = z.output<typeof edgeReportSchema>;

export function parseEdgeReport(value: unknown): EdgeReport {
  const parsed = edgeReportSchema.safeParse(value);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new MeridianError('BAD_REQUEST', 'not a valid edge report', details);
  }
  return parsed.data;
}

/** Own keys only: a region named "__proto__" in a record stays a plain entry. */
export const recordEntries = <T>(r: Record<string, T>): [string, T][] => Object.keys(r).map((k) => [k, r[k]]);
