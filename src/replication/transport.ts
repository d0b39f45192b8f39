// What carries replication messages between regions. Each source region has
// its own ordered log; each destination reads it through a durable cursor, so
// a destination that is away (partition, relay restart) resumes where it
// stopped and gets the backlog in order.

export type MessageHandler = (data: Uint8Array) => Promise<void>;

export interface TransportSubscription {
  /** Stops delivery; messages being handled finish first. The cursor stays. */
  close(): Promise<void>;
}

export interface PublishOptions {
  msgId?: string;
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
  close(): Promise<void>;
}
