// What carries replication messages between regions. Each source region has
// its own ordered log; each destination reads it through a durable cursor, so
// a destination that is away (partition, relay restart) resumes where it
// stopped and gets the backlog in order.

/**
 * A handler rejects with this to have the message come again after about
 * `afterMs` (not sooner than needed, not logged as a failure): the relay
 * holding events stamped too far ahead of its clock.
 */
export class RetryLater extends Error {
  constructor(
    readonly afterMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

export type MessageHandler = (data: Uint8Array) => Promise<void>;

export interface TransportSubscription {
  /** Stops delivery; messages being handled finish first. The cursor stays. */
  close(): Promise<void>;
}

export interface PublishOptions {
  msgId?: string;
}

/**
 * How long `destination` can stay away from `source` before events age out
 * (src/replication/retention.ts judges it). Sequences are the source log's,
 * first to last kept; nextSeq is the first one the destination has not taken.
 */
export interface RetentionInfo {
  /** Age of the oldest event the destination has not taken; null when it has taken everything. */
  oldestPendingAgeMs: number | null;
  /** How long the log keeps events; null when it is bounded by count, not age. */
  maxAgeMs: number | null;
  /** The destination's next sequence is below the first one kept: events aged out untaken. */
  gap: boolean;
  firstSeq: number;
  lastSeq: number;
  nextSeq: number;
}

export interface ReplicationTransport {
  /** http: the lab's origins, one process each, pushing to each other over HTTP. */
  readonly kind: 'nats' | 'memory' | 'http';
  /**
   * Resolves once the message is stored for every destination (JetStream: the
   * PubAck). `msgId` names the message so a resend is dropped as a duplicate
   * (JetStream's duplicate window); transports without deduplication ignore it.
   */
  publish(source: string, data: Uint8Array, options?: PublishOptions): Promise<void>;
  /**
   * Delivers `source`'s messages to `destination`. A message counts as taken
   * when `handler` resolves; when it rejects, the message comes again later.
   */
  subscribe(source: string, destination: string, handler: MessageHandler): Promise<TransportSubscription>;
  /** Messages of `source` that `destination` has not taken yet. */
  queueDepth(source: string, destination: string): Promise<number>;
  /** Retention headroom of the pair; absent in transports that cannot tell (the lab's HTTP push). */
  retention?(source: string, destination: string): Promise<RetentionInfo>;
  close(): Promise<void>;
}
