// The lab's view of control's release work (issue 14): it starts rollouts
// through control's API (POST /v1/rollouts, operator token) and watches
// GET /v1/status (outlier state) and GET /v1/rollouts/current twice a second,
// so a `global` condition or an outlier evacuation that ended before the run
// did is still seen. Each request goes to the leader first (LeaderWatch), then
// to the other instances: a follower sends writes on to the leader.
import { request } from 'undici';
import type { RolloutRecord } from '../core/operations/rollout-record.js';
import type { OutlierState } from '../core/outlier-moves.js';

/** What control's outlier detector keeps, as GET /v1/status sends it. */
export type OutlierStateSeen = Partial<OutlierState>;

/** The fields of control's RolloutRecord the lab reads. */
export type RolloutSeen = Pick<
  RolloutRecord,
  'id' | 'version' | 'status' | 'phase' | 'regionsReached' | 'judgements' | 'message'
>;

export interface ReleaseObservations {
  /** ms since the scenario started when control first said `global`, null if never. */
  globalAt: number | null;
  globalWhy: string | null;
  /** Regions control evacuated as outliers, with when the lab first saw each. */
  evacuated: Map<string, number>;
  /** Every outlier decision seen (deduplicated). */
  decisions: { at: number; region?: string; decision: string; why: string }[];
  rollout: RolloutSeen | null;
  /** Why a status or rollout read failed last, if it did. */
  lastError: string | null;
}

const ENDED = new Set(['done', 'rolled-back', 'aborted']);
export const rolloutEnded = (r: RolloutSeen | null) => r !== null && ENDED.has(r.status);

export class ReleaseWatch {
  readonly seen: ReleaseObservations = {
    globalAt: null,
    globalWhy: null,
    evacuated: new Map(),
    decisions: [],
    rollout: null,
    lastError: null,
  };
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly urls: readonly string[],
    private readonly tokens: { viewer: string; operator: string },
    private readonly clock: () => number,
    /** The instance leading now, when known. */
    private readonly leader: () => string | null = () => null,
  ) {}

  /** Leader first, then the others. */
  private order(): string[] {
    const l = this.leader();
    return l ? [l, ...this.urls.filter((u) => u !== l)] : [...this.urls];
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    let last: Error | null = null;
    for (const url of this.order()) {
      try {
        const res = await request(`${url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          headersTimeout: 3000,
          bodyTimeout: 3000,
        });
        const text = await res.body.text();
        // 5xx: this instance could not answer (no leader yet, lost its store): try the next.
        if (res.statusCode >= 500) {
          last = new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
          continue;
        }
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        return { status: res.statusCode, json };
      } catch (e) {
        last = e as Error;
      }
    }
    throw last ?? new Error('no control instance');
  }

  start(intervalMs = 500): void {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at control: outlier state and the current rollout. */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const t = this.clock();
      const status = await this.call('GET', '/v1/status', this.tokens.viewer);
      const s = status.json as { outlier?: OutlierStateSeen; rollout?: RolloutSeen | null } | null;
      this.observeOutlier(s?.outlier, t);
      const current = await this.call('GET', '/v1/rollouts/current', this.tokens.viewer);
      // Before the rollout part of control exists the route answers 404: nothing to see.
      if (current.status === 200)
        this.observeRollout((current.json as { rollout?: RolloutSeen | null }).rollout);
      else if (s?.rollout) this.observeRollout(s.rollout);
      this.seen.lastError = null;
    } catch (e) {
      this.seen.lastError = (e as Error).message;
    } finally {
      this.busy = false;
    }
  }

  observeOutlier(o: OutlierStateSeen | undefined, t: number): void {
    if (!o) return;
    if (o.global && this.seen.globalAt === null) {
      this.seen.globalAt = t;
      this.seen.globalWhy = o.global.why;
    }
    for (const e of o.evacuated ?? [])
      if (!this.seen.evacuated.has(e.region)) this.seen.evacuated.set(e.region, t);
    for (const d of o.decisions ?? []) {
      if (
        this.seen.decisions.some((x) => x.at === d.at && x.region === d.region && x.decision === d.decision)
      )
        continue;
      this.seen.decisions.push(d);
      // A redirect (or a limit: as much as the others' headroom allows) moves traffic away, an
      // evacuation even if it ended since. A restrict keeps the outage where it is: not one.
      if (
        d.region &&
        (d.decision === 'redirect' || d.decision === 'limit') &&
        !this.seen.evacuated.has(d.region)
      )
        this.seen.evacuated.set(d.region, t);
    }
  }

  observeRollout(r: RolloutSeen | null | undefined): void {
    if (!r) return;
    // Keep the one the lab started, once it has started one: an older record is not news.
    if (
      this.seen.rollout &&
      this.seen.rollout.id !== r.id &&
      rolloutEnded(r) &&
      !rolloutEnded(this.seen.rollout)
    )
      return;
    this.seen.rollout = r;
  }

  /** POST /v1/rollouts {version, previousVersion}: the started record, or an error with control's answer. */
  async startRollout(version: string, previousVersion?: string): Promise<RolloutSeen> {
    const body = previousVersion ? { version, previousVersion } : { version };
    const res = await this.call('POST', '/v1/rollouts', this.tokens.operator, body);
    const answer = res.json as { rollout?: RolloutSeen; error?: { message?: string } | string } | null;
    if (res.status !== 201 && res.status !== 200)
      throw new Error(
        `POST /v1/rollouts answered HTTP ${res.status}: ${JSON.stringify(answer?.error ?? answer).slice(0, 300)}`,
      );
    if (!answer?.rollout) throw new Error('POST /v1/rollouts answered without a rollout');
    this.seen.rollout = answer.rollout;
    return answer.rollout;
  }
}
