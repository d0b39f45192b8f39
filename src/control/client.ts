import { request } from 'undici';
import { ERRORS, type ErrorCode, MeridianError } from '../errors.js';

/** A small client of the control API for the CLI and tests. Errors come back as MeridianError with control's code. */
export class ControlClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    let res: Awaited<ReturnType<typeof request>>;
    const url = new URL(path, this.baseUrl);
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
        `cannot reach control at ${this.baseUrl}: ${(e as Error).message}`,
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
