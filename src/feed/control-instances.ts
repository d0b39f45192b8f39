// Several control instances (etcd store: one per region) behind one follower.
// Any instance serves the snapshot stream and takes reports; only the leader
// takes writes. A follower of the stream prefers the leader when one says so
// on its public /v1/health, and otherwise goes round the list.
import { request } from 'undici';
import { MeridianError } from '../errors.js';

/**
 * `--control` / MERIDIAN_CONTROL: one URL, a comma-separated list, or a
 * repeated flag (an array, each item may itself be a list). Blank items are
 * skipped, duplicates dropped; anything that is not an http(s) URL is a
 * BAD_ARGUMENT naming it.
 */
export function parseControlUrls(value: string | readonly string[], flag = '--control'): string[] {
  const items = (typeof value === 'string' ? [value] : value).flatMap((v) => v.split(','));
  const urls: string[] = [];
  for (const raw of items) {
    const text = raw.trim();
    if (!text) continue;
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {}
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new MeridianError(
        'BAD_ARGUMENT',
        `${flag} expects http(s) URLs separated by commas, got "${text}"`,
      );
    const base = url.toString().replace(/\/$/, '');
    if (!urls.includes(base)) urls.push(base);
  }
  if (urls.length === 0) throw new MeridianError('BAD_ARGUMENT', `${flag} expects at least one URL`);
  return urls;
}

/** What an instance says about itself on GET /v1/health (public: no token). */
export interface InstanceHealth {
  url: string;
  isLeader: boolean;
  version: number;
}

export async function probeHealth(url: string, timeoutMs: number): Promise<InstanceHealth | null> {
  try {
    const res = await request(new URL('/v1/health', url), {
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.body.json()) as { ok?: unknown; isLeader?: unknown; version?: unknown };
    if (res.statusCode !== 200 || body.ok !== true) return null;
    return { url, isLeader: body.isLeader === true, version: Number(body.version) || 0 };
  } catch {
    return null;
  }
}

/**
 * The list and where the follower is in it. `next()` moves round the list;
 * `choose()` asks every instance at once and takes the leader if one says it
 * leads, else the next instance that answers, else simply the next one.
 */
export class ControlInstances {
  private index = -1;

  constructor(
    readonly urls: readonly string[],
    private readonly probe: (url: string) => Promise<InstanceHealth | null> = (u) => probeHealth(u, 1000),
  ) {}

  /** The instance in use (the first one before any choice). */
  get current(): string {
    return this.urls[Math.max(0, this.index)];
  }

  next(): string {
    this.index = (this.index + 1) % this.urls.length;
    return this.current;
  }

  async choose(): Promise<string> {
    if (this.urls.length === 1) return this.next();
    const answers = await Promise.all(this.urls.map((u) => this.probe(u)));
    const leader = answers.findIndex((a) => a?.isLeader);
    if (leader >= 0) {
      this.index = leader;
      return this.current;
    }
    for (let i = 1; i <= this.urls.length; i++) {
      const k = (this.index + i) % this.urls.length;
      if (answers[k]) {
        this.index = k;
        return this.current;
      }
    }
    return this.next();
  }

  /** Another instance says it leads (the one in use does not): the follower should move there. */
  async leaderElsewhere(): Promise<string | null> {
    if (this.urls.length === 1) return null;
    const others = this.urls.filter((u) => u !== this.current);
    const answers = await Promise.all([this.probe(this.current), ...others.map((u) => this.probe(u))]);
    if (answers[0]?.isLeader) return null;
    return answers.slice(1).find((a) => a?.isLeader)?.url ?? null;
  }
}
