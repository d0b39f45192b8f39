import type { Logger } from '../../log.js';
import type { Entry } from './store.js';

// Copies this origin's writes to each peer, asynchronously, in order, until
// delivered: a peer behind a cut link gets everything once the link heals.
export class PeerReplicator {
  private readonly queues = new Map<string, Entry[]>();
  private readonly timer: NodeJS.Timeout;
  private readonly busy = new Set<string>();
  private closed = false;

  constructor(
    peers: readonly string[],
    private readonly log: Logger,
    intervalMs = 50,
  ) {
    for (const p of peers) this.queues.set(p, []);
    this.timer = setInterval(() => this.flushAll(), intervalMs);
    this.timer.unref();
  }

  enqueue(e: Entry): void {
    for (const q of this.queues.values()) q.push(e);
  }

  pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private flushAll() {
    for (const peer of this.queues.keys()) if (!this.busy.has(peer)) void this.flush(peer);
  }

  private async flush(peer: string) {
    const queue = this.queues.get(peer)!;
    if (queue.length === 0 || this.closed) return;
    this.busy.add(peer);
    const batch = queue.slice(0, 500);
    try {
      const res = await fetch(`${peer}/_lab/replicate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(2000),
      });
      await res.arrayBuffer();
      if (res.ok) queue.splice(0, batch.length);
    } catch (e) {
      this.log.debug({ peer, err: (e as Error).message, pending: queue.length }, 'replication deferred');
      await new Promise((r) => setTimeout(r, 250).unref());
    } finally {
      this.busy.delete(peer);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }
}
