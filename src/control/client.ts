import { request } from 'undici';
import { ERRORS, type ErrorCode, MeridianError } from '../errors.js';

/** Where a follower's NOT_LEADER refusal says the leader is ("leader: URL" in its details). */
export function leaderHint(error: MeridianError): string | null {
  for (const d of error.details) {
    const m = /^leader: (https?:\/\/\S+)$/.exec(d);
    if (m) return m[1];
  }
  return null;
}

export interface ControlClientOptions {
  /** How often to ask again while no leader is elected yet (a NOT_LEADER without a hint). */
  electionRetries?: number;
  electionWaitMs?: number;
}

/**
 * A small client of the control API for the CLI and tests. Errors come back as
 * MeridianError with control's code. A follower (etcd store) refuses writes
 * with NOT_LEADER naming the leader: the client sends the call there instead,
 * and keeps talking to the leader afterwards; while no leader is elected it
 * waits and asks again a few times.
 */
export class ControlClient {
  private base: string;

  constructor(
    baseUrl: string,
    private readonly token: string | undefined,
    private readonly options: ControlClientOptions = {},
  ) {
    this.base = baseUrl;
  }

  /** The instance calls go to: the given URL, or the leader it pointed to. */
  get baseUrl(): string {
    return this.base;
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const tried = new Set<string>();
    let waits = 0;
    for (;;) {
      try {
        return await this.once<T>(method, path, body);
      } catch (e) {
        if (!(e instanceof MeridianError) || e.code !== 'NOT_LEADER') throw e;
        tried.add(this.base);
        const leader = leaderHint(e);
        // The refusal happens before anything changes, so sending the call again is safe.
        if (leader && !tried.has(leader)) {
          this.base = leader;
          continue;
        }
        if (leader || waits >= (this.options.electionRetries ?? 5)) throw e;
        waits++;
        await new Promise((r) => setTimeout(r, this.options.electionWaitMs ?? 500));
      }
    }
  }

  private async once<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    let res: Awaited<ReturnType<typeof request>>;
    const url = new URL(path, this.base);
    try {
      res = await request(url, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
    } catch (e) {
      throw new MeridianError(
        'CONTROL_UNREACHABLE',
        `cannot reach control at ${this.base}: ${(e as Error).message}`,
      );
    }
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new MeridianError(
        'CONTROL_UNREACHABLE',
        `${url}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 100)}`,
      );
    }
    if (res.statusCode >= 400) {
      const err = (json as { error?: { code?: string; message?: string; details?: string[] } }).error ?? {};
      const code = (err.code && err.code in ERRORS ? err.code : 'INTERNAL') as ErrorCode;
      throw new MeridianError(code, err.message ?? `HTTP ${res.statusCode}`, err.details ?? []);
    }
    return json as T;
  }
}
