// In-process transport: one log per source region, one cursor per
// destination. For the lab's embedded default and tests; it lives and dies
// with the process. cut()/heal() simulate a broken link.
import {
  type MessageHandler,
  type ReplicationTransport,
  RetryLater,
  type TransportSubscription,
} from './transport.js';

interface Log {
  messages: Uint8Array[];
  /** When each message was published (ms), for retention headroom. */
  times: number[];
  /** Index in the original numbering of messages[0] (older ones were dropped). */
  base: number;
}

export interface MemoryTransport extends ReplicationTransport {
  readonly kind: 'memory';
  /** Stops delivery from source to destination; messages queue. */
  cut(source: string, destination: string): void;
  heal(source: string, destination: string): void;
}

export interface MemoryTransportOptions {
  /** Messages kept per source; older ones are dropped (a partition longer than this loses them). */
  retainMessages?: number;
  retryDelayMs?: number;
}

export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  const retain = options.retainMessages ?? 100_000;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const logs = new Map<string, Log>();
  const cursors = new Map<string, number>();
  const cuts = new Set<string>();
  const wakers = new Map<string, Set<() => void>>();
  const open = new Set<TransportSubscription>();
  const pair = (s: string, d: string) => JSON.stringify([s, d]);
  const logOf = (s: string) => {
    let log = logs.get(s);
    if (!log) {
      log = { messages: [], times: [], base: 0 };
      logs.set(s, log);
    }
    return log;
  };
  const wake = (s: string) => {
    for (const w of wakers.get(s) ?? []) w();
  };

  return {
    kind: 'memory',
    async publish(source, data) {
      const log = logOf(source);
      log.messages.push(data);
      log.times.push(Date.now());
      if (log.messages.length > retain) {
        const drop = log.messages.length - retain;
        log.messages.splice(0, drop);
        log.times.splice(0, drop);
        log.base += drop;
      }
      wake(source);
    },
    async subscribe(source, destination, handler) {
      const sub = runSubscription(source, destination, handler);
      open.add(sub);
      return {
        close: async () => {
          open.delete(sub);
          await sub.close();
        },
      };
    },
    async queueDepth(source, destination) {
      const log = logOf(source);
      return Math.max(0, log.base + log.messages.length - (cursors.get(pair(source, destination)) ?? 0));
    },
    async retention(source, destination) {
      // Sequences count from 1 as in JetStream; the log is bounded by count (retainMessages), not age.
      const log = logOf(source);
      const next = (cursors.get(pair(source, destination)) ?? 0) + 1;
      const first = log.base + 1;
      const oldest = log.times[Math.max(next, first) - first];
      return {
        oldestPendingAgeMs: oldest === undefined ? null : Math.max(0, Date.now() - oldest),
        maxAgeMs: null,
        gap: next < first,
        firstSeq: first,
        lastSeq: log.base + log.messages.length,
        nextSeq: next,
      };
    },
    cut(source, destination) {
      cuts.add(pair(source, destination));
    },
    heal(source, destination) {
      cuts.delete(pair(source, destination));
      wake(source);
    },
    async close() {
      await Promise.all([...open].map((sub) => sub.close()));
      open.clear();
    },
  };

  function runSubscription(
    source: string,
    destination: string,
    handler: MessageHandler,
  ): TransportSubscription {
    const id = pair(source, destination);
    let running = true;
    let wakeUp: (() => void) | null = null;
    const waker = () => wakeUp?.();
    if (!wakers.has(source)) wakers.set(source, new Set());
    wakers.get(source)!.add(waker);
    const sleep = (ms?: number) =>
      new Promise<void>((resolve) => {
        wakeUp = resolve;
        if (ms !== undefined) setTimeout(resolve, ms).unref();
      });

    const loop = (async () => {
      while (running) {
        const log = logOf(source);
        const cursor = Math.max(cursors.get(id) ?? 0, log.base);
        if (cuts.has(id) || cursor >= log.base + log.messages.length) {
          await sleep();
          continue;
        }
        try {
          await handler(log.messages[cursor - log.base]);
          cursors.set(id, cursor + 1);
        } catch (err) {
          await sleep(err instanceof RetryLater ? err.afterMs : retryDelayMs);
        }
      }
    })();

    return {
      async close() {
        running = false;
        wakers.get(source)?.delete(waker);
        waker();
        await loop;
      },
    };
  }
}
