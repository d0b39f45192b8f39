// Control's HTTP API as the dashboard uses it. Every call carries the bearer
// token; the snapshot stream is read with fetch (EventSource cannot send headers).
import { SseParser } from '../../src/feed/sse.js';
import type { AuditEntry, MovePlan, Operation, Sample, Session, SnapshotJson, Status } from './model.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export interface MoveBody {
  kind: 'evacuate' | 'restore';
  region: string;
  steps: number[];
  stepIntervalMs?: number;
  reason?: string;
  dryRun?: boolean;
}

export class Api {
  constructor(private readonly token: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = json?.error ?? {};
      throw new ApiError(res.status, e.code ?? 'HTTP', e.message ?? `HTTP ${res.status}`, e.details ?? []);
    }
    return json as T;
  }

  session = () => this.call<Session>('GET', '/v1/dashboard/session');
  status = () => this.call<Status>('GET', '/v1/status');
  audit = (limit = 50) => this.call<{ entries: AuditEntry[] }>('GET', `/v1/audit?limit=${limit}`);
  history = (since: number) =>
    this.call<{ now: number; samples: Sample[] }>('GET', `/v1/dashboard/history?since=${since}`);
  move = (body: MoveBody) =>
    this.call<{ plan: MovePlan; operation: Operation | null }>('POST', '/v1/operations', body);
  abort = (id: string, reason: string) =>
    this.call<{ operation: Operation }>('POST', `/v1/operations/${encodeURIComponent(id)}/abort`, { reason });
  setDial = (region: string, dial: number, reason: string) =>
    this.call<{ changed: boolean }>('PUT', `/v1/regions/${encodeURIComponent(region)}/dial`, {
      dial,
      reason,
    });

  /**
   * Follows the snapshot stream until `signal` aborts, reconnecting with
   * backoff and jitter. `onState` hears 'live', 'reconnecting' and errors.
   */
  async followSnapshots(
    onSnapshot: (s: SnapshotJson) => void,
    onState: (state: 'live' | 'reconnecting', error?: ApiError) => void,
    signal: AbortSignal,
  ) {
    let delay = 500;
    while (!signal.aborted) {
      try {
        const res = await fetch('/v1/snapshots/stream', {
          headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
          signal,
          cache: 'no-store',
        });
        if (!res.ok || !res.body) {
          const e = (await res.json().catch(() => ({})))?.error ?? {};
          throw new ApiError(res.status, e.code ?? 'HTTP', e.message ?? `HTTP ${res.status}`);
        }
        onState('live');
        delay = 500;
        const parser = new SseParser();
        const reader = res.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) {
            if (event.event === 'snapshot') onSnapshot(JSON.parse(event.data) as SnapshotJson);
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          onState('reconnecting', e);
          return;
        }
      }
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}
