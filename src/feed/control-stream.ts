// One connection to one control instance's snapshot stream (SSE), and the
// check that moves a follower off an instance that does not lead.
import { request } from 'undici';
import type { Snapshot } from '../core/model.js';
import type { Logger } from '../log.js';
import { snapshotFromJson } from './codec.js';
import type { ControlInstances } from './control-instances.js';
import { SseParser } from './sse.js';

export interface StreamFollow {
  base: string;
  token: string;
  signal: AbortSignal;
  /** No byte (control pings every 10 s) for this long: the stream is dead. */
  idleTimeoutMs: number;
  log?: Logger;
  connected(): void;
  snapshot(s: Snapshot): void;
}

/** Follows until the stream breaks or ends; always rejects (the caller reconnects). */
export async function followStream(f: StreamFollow): Promise<never> {
  const url = new URL('/v1/snapshots/stream', f.base).toString();
  const res = await request(url, {
    signal: f.signal,
    headers: { accept: 'text/event-stream', authorization: `Bearer ${f.token}` },
    headersTimeout: 5000,
    bodyTimeout: f.idleTimeoutMs,
  });
  if (res.statusCode !== 200) {
    const text = await res.body.text().catch(() => '');
    throw new Error(`HTTP ${res.statusCode} from ${url}: ${text.slice(0, 200)}`);
  }
  f.connected();
  f.log?.info({ url }, 'following control snapshot stream');
  const parser = new SseParser();
  for await (const chunk of res.body) {
    for (const event of parser.push(chunk as Buffer)) {
      if (event.event !== 'snapshot') continue;
      let snapshot: Snapshot;
      try {
        snapshot = snapshotFromJson(JSON.parse(event.data));
      } catch (e) {
        f.log?.error({ err: (e as Error).message }, 'bad snapshot from control ignored');
        continue;
      }
      f.snapshot(snapshot);
    }
  }
  throw new Error('snapshot stream ended');
}

/**
 * While following an instance that does not lead, asks every `everyMs` whether
 * another one does, and calls `move` once one says so. A follower's stream is
 * as good as the leader's while its store is reachable; the leader is simply
 * the instance that cannot be behind. Returns the stop function.
 */
export function watchForLeader(
  instances: ControlInstances,
  everyMs: number,
  move: (leader: string) => void,
): () => void {
  if (everyMs <= 0 || instances.urls.length < 2) return () => {};
  let asking = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (asking) return;
    asking = true;
    void instances
      .leaderElsewhere()
      .then((leader) => {
        if (leader && !stopped) move(leader);
      })
      .finally(() => {
        asking = false;
      });
  }, everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
