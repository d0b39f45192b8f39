// Writes acknowledged by Redis together (one reply burst, before the microtask
// queue drains) share one transport message: 1,000 concurrent writes are a few
// publishes, not 1,000, and a lone write still leaves at once (no timer).
import { encodeBatch, type ReplicationEvent } from './event.js';

interface Pending {
  events: ReplicationEvent[];
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export class BatchPublisher {
  private current: Pending | null = null;

  constructor(
    private readonly origin: string,
    private readonly send: (data: Uint8Array) => Promise<void>,
    private readonly maxEvents = 512,
  ) {}

  /** Resolves when the transport has accepted the message that carries the event. */
  publish(event: ReplicationEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.current) {
        this.current = { events: [], waiters: [] };
        queueMicrotask(() => this.flush());
      }
      this.current.events.push(event);
      this.current.waiters.push({ resolve, reject });
      if (this.current.events.length >= this.maxEvents) this.flush();
    });
  }

  private flush(): void {
    const batch = this.current;
    if (!batch) return;
    this.current = null;
    this.send(encodeBatch({ origin: this.origin, events: batch.events })).then(
      () => {
        for (const w of batch.waiters) w.resolve();
      },
      (err) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}
