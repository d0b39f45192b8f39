// One virtual user's HTTP client: its own connection pool (kept alive, as a
// browser keeps them), the round trip of its distance paid on every connect
// (the TCP handshake) and every request, and its cached DNS answer.
import { Agent, buildConnector, request } from 'undici';
import type { VirtualUser } from '../users.js';
import { classifyFailure, type FailureKind } from './tries.js';

export interface EdgeTarget {
  region: string;
  url: string;
}

export interface Answered {
  ok: true;
  status: number;
  /** Region whose origin served it (x-lab-region), '' when none did. */
  servedRegion: string;
  /** Version of the origin that answered (x-lab-version), '' when none said. */
  servedVersion: string;
  /** The origin that served it (x-lab-origin), '' when none did. */
  servedOrigin: string;
  /** The HLC stamp of the write the origin made (x-lab-stamp), '' when none. */
  stamp: string;
  /** The edge's account of its tries (x-meridian-attempts), when it gave one. */
  attempts: string;
  body: string;
}

export type TryResult = Answered | { ok: false; failure: FailureKind };

export interface TryRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const connectPlain = buildConnector({ timeout: 3000 });

/** scheme://host:port of a URL, as the connector sees its origin. */
export const originOf = (url: string) => new URL(url).origin;

export class UserClient {
  private readonly agent: Agent;
  /** Open connections per origin. */
  private readonly open = new Map<string, number>();
  /** The user's cached DNS answer: where it may go, until `expires` (epoch ms). */
  answer: { targets: EdgeTarget[]; expires: number } | null = null;

  constructor(
    readonly user: VirtualUser,
    readonly home: string,
    readonly cohort: string,
    /** The user's round trip to the region behind an origin (scheme://host:port). */
    private readonly roundTripTo: (origin: string) => number,
  ) {
    this.agent = new Agent({
      connections: 6, // a browser's connections per host
      pipelining: 1,
      keepAliveTimeout: 30_000, // capped by what the edge announces (Keep-Alive: timeout=)
      connect: (opts, callback) => {
        const origin = `${opts.protocol}//${opts.hostname}${opts.port ? `:${opts.port}` : ''}`;
        setTimeout(() => {
          connectPlain(opts, (err, socket) => {
            if (socket) {
              this.open.set(origin, (this.open.get(origin) ?? 0) + 1);
              socket.once('close', () => this.open.set(origin, (this.open.get(origin) ?? 1) - 1));
            }
            if (socket) callback(null, socket);
            else callback(err ?? new Error('connect failed'), null);
          });
        }, this.roundTripTo(origin));
      },
    });
  }

  /** The user holds an open connection to this URL's origin (its pool would reuse it). */
  connected(url: string): boolean {
    return (this.open.get(originOf(url)) ?? 0) > 0;
  }

  /** One try at one URL: a round trip, then the request (after a handshake when no connection is open). */
  async send(url: string, r: TryRequest): Promise<TryResult> {
    await sleep(this.roundTripTo(originOf(url)));
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${url}${r.path}`, {
        method: r.method as 'GET',
        headers: r.headers,
        body: r.body,
        dispatcher: this.agent,
        headersTimeout: r.timeoutMs,
        bodyTimeout: r.timeoutMs,
      });
    } catch (e) {
      return { ok: false, failure: classifyFailure(e) };
    }
    let body: string;
    try {
      body = await res.body.text();
    } catch {
      // The answer had begun: the request was handled, a client does not send it again.
      return { ok: false, failure: 'other' };
    }
    const attempts = res.headers['x-meridian-attempts'];
    return {
      ok: true,
      status: res.statusCode,
      servedRegion: String(res.headers['x-lab-region'] ?? ''),
      servedVersion: String(res.headers['x-lab-version'] ?? ''),
      servedOrigin: String(res.headers['x-lab-origin'] ?? ''),
      stamp: String(res.headers['x-lab-stamp'] ?? ''),
      attempts: typeof attempts === 'string' ? attempts : '',
      body,
    };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
