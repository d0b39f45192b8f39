// How the lab's origins (one process each) carry replication messages to each
// other: every origin keeps, per peer, the messages that peer has not taken
// yet, and pushes them in order over HTTP (to other regions through the lab's
// fault proxy, so a cut link really stops replication). A peer takes a
// message by answering once the events are applied; until then it is sent
// again, so nothing acknowledged here is lost while this process lives, and a
// repeat is harmless (the store applies by stamp).
import type { Logger } from '../../log.js';
import type {
  MessageHandler,
  ReplicationTransport,
  TransportSubscription,
} from '../../replication/transport.js';

export interface HttpTransportOptions {
  /** This origin's name as a replication source. */
  self: string;
  /** Base URLs of the other origins (each serves POST /_lab/replicate). */
  peers: readonly string[];
  log: Logger;
  /** Messages per request. */
  batch?: number;
  /** Messages kept per peer; older ones are dropped (a longer partition loses them). */
  retainMessages?: number;
  retryDelayMs?: number;
  requestTimeoutMs?: number;
}

/** What POST /_lab/replicate carries. */
export interface ReplicateBody {
  source: string;
  /** Transport messages (JSON batches), as text. */
  messages: string[];
}

export interface HttpTransport extends ReplicationTransport {
  readonly kind: 'http';
  /** Messages of this origin that some peer has not taken yet. */
  pending(): number;
  /**
   * Hands messages from `source` to its subscriber, in order; resolves when
   * all were handled (then the sender may forget them). `whenUnknown` is
   * awaited first for a source nobody subscribed to yet (it may subscribe).
   */
  receive(body: ReplicateBody, whenUnknown?: (source: string) => Promise<void>): Promise<void>;
}

interface Outbox {
  url: string;
  queue: Uint8Array[];
  sending: boolean;
  dropped: number;
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const { self, log } = options;
  const batch = options.batch ?? 64;
  const retain = options.retainMessages ?? 100_000;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  const outboxes: Outbox[] = options.peers.map((url) => ({ url, queue: [], sending: false, dropped: 0 }));
  const handlers = new Map<string, MessageHandler>();
  /** Per source, the chain that keeps its messages in order. */
  const inbound = new Map<string, Promise<void>>();
  let closed = false;
  const decoder = new TextDecoder();

  async function drain(box: Outbox) {
    if (box.sending) return;
    box.sending = true;
    try {
      while (!closed && box.queue.length > 0) {
        const taking = box.queue.slice(0, batch);
        const body: ReplicateBody = { source: self, messages: taking.map((m) => decoder.decode(m)) };
        let ok = false;
        try {
          const res = await fetch(`${box.url}/_lab/replicate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(requestTimeoutMs),
          });
          await res.arrayBuffer();
          ok = res.ok;
        } catch (err) {
          log.debug(
            { peer: box.url, err: (err as Error).message, pending: box.queue.length },
            'replication deferred',
          );
        }
        if (ok) {
          // Only what was sent: more may have been queued (or old ones dropped) meanwhile.
          const sent = box.queue.indexOf(taking[taking.length - 1]);
          box.queue.splice(0, sent + 1);
        } else {
          await new Promise((r) => setTimeout(r, retryDelayMs).unref());
        }
      }
    } finally {
      box.sending = false;
    }
  }

  return {
    kind: 'http',
    async publish(source, data) {
      if (source !== self)
        throw new Error(`this transport publishes only ${self}'s messages, not ${source}'s`);
      for (const box of outboxes) {
        box.queue.push(data);
        if (box.queue.length > retain) {
          box.queue.shift();
          if (box.dropped++ % 1000 === 0)
            log.warn({ peer: box.url }, 'replication queue full; dropping the oldest');
        }
        void drain(box);
      }
    },
    async subscribe(source, _destination, handler): Promise<TransportSubscription> {
      handlers.set(source, handler);
      return {
        async close() {
          if (handlers.get(source) === handler) handlers.delete(source);
          await inbound.get(source);
        },
      };
    },
    async queueDepth(source) {
      // Only the sender knows what waits: this origin's own messages, the worst peer.
      if (source !== self) return 0;
      return Math.max(0, ...outboxes.map((b) => b.queue.length));
    },
    pending: () => outboxes.reduce((n, b) => n + b.queue.length, 0),
    receive(body, whenUnknown) {
      const { source, messages } = body;
      const run = async () => {
        if (!handlers.has(source) && whenUnknown) await whenUnknown(source);
        const handler = handlers.get(source);
        if (!handler) throw new Error(`no subscriber for ${source}`);
        for (const m of messages) await handler(Buffer.from(m));
      };
      const previous = inbound.get(source) ?? Promise.resolve();
      const done = previous.catch(() => undefined).then(run);
      const tail = done.catch(() => undefined);
      inbound.set(source, tail);
      void tail.then(() => inbound.get(source) === tail && inbound.delete(source));
      return done;
    },
    async close() {
      closed = true;
      handlers.clear();
    },
  };
}
