// Writes acknowledged by Redis together (one reply burst, before the microtask
// queue drains) share one transport message: 1,000 concurrent writes are a few
// publishes, not 1,000, and a lone write still leaves at once (no timer).
import { encodeEvent, joinEncodedEvents, type ReplicationEvent } from './event.js';

interface Pending {
  encoded: string[];
  bytes: number;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export class BatchPublisher {
  private current: Pending | null = null;

  constructor(
    private readonly origin: string,
    private readonly send: (data: Uint8Array) => Promise<void>,
    private readonly maxEvents = 512,
    /** Below NATS's default max_payload (1 MiB), with room for the envelope. */
    private readonly maxBytes = 900 * 1024,
  ) {}

  /** Resolves when the transport has accepted the message that carries the event. */
  publish(event: ReplicationEvent): Promise<void> {
    const encoded = encodeEvent(event);
    const bytes = Buffer.byteLength(encoded);
    return new Promise((resolve, reject) => {
      if (this.current && this.current.bytes + bytes > this.maxBytes) this.flush();
      if (!this.current) {
        this.current = { encoded: [], bytes: 0, waiters: [] };
        queueMicrotask(() => this.flush());
      }
      this.current.encoded.push(encoded);
      this.current.bytes += bytes + 1;
      this.current.waiters.push({ resolve, reject });
      if (this.current.encoded.length >= this.maxEvents) this.flush();
    });
  }

  private flush(): void {
    const batch = this.current;
    if (!batch) return;
    this.current = null;
    this.send(joinEncodedEvents(this.origin, batch.encoded)).then(
      () => {
        for (const w of batch.waiters) w.resolve();
      },
      (err) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}
