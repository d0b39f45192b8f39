import { request } from 'undici';
import { ERRORS, type ErrorCode, MeridianError } from '../errors.js';
import { parseControlUrls } from '../feed/control-instances.js';

/** Errors of the connect phase: the request never reached the instance, so another may take it. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

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
 *
 * Given several instances (a list, or one comma-separated string), it uses the
 * first that answers: a read goes to the next one whenever an instance cannot
 * be reached; a write only when the connection was never made (a write that
 * may have arrived is not sent twice).
 */
export class ControlClient {
  private base: string;
  private readonly instances: string[];

  constructor(
    baseUrl: string | readonly string[],
    private readonly token: string | undefined,
    private readonly options: ControlClientOptions = {},
  ) {
    this.instances = parseControlUrls(baseUrl);
    this.base = this.instances[0];
  }

  /** The instance calls go to: the given URL, or the leader it pointed to. */
  get baseUrl(): string {
    return this.base;
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const tried = new Set<string>();
    const unreachable = new Set<string>();
    let waits = 0;
    for (;;) {
      try {
        return await this.once<T>(method, path, body);
      } catch (e) {
        if (e instanceof MeridianError && e.code === 'CONTROL_UNREACHABLE') {
          unreachable.add(this.base);
          const other = this.instances.find((u) => !unreachable.has(u));
          const mayResend =
            method === 'GET' || e.details.some((d) => NOT_SENT.has(d.replace(/^cause: /, '')));
          if (!other || !mayResend) throw e;
          this.base = other;
          continue;
        }
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
      const code = (e as { code?: unknown }).code;
      throw new MeridianError(
        'CONTROL_UNREACHABLE',
        `cannot reach control at ${this.base}: ${(e as Error).message}`,
        code ? [`cause: ${String(code)}`] : [],
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
