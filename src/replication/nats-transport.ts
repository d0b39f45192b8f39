// NATS JetStream transport: one stream per source region (file storage,
// limits retention, so events wait out a partition up to maxAge) and one
// durable pull consumer per destination, acknowledged message by message.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  type ConsumerMessages,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
} from 'nats';
import { MeridianError } from '../errors.js';
import { createLogger, type Logger, redactUrl } from '../log.js';
import { SkippedRepair } from './repair-skipped.js';
import { SequenceFloor } from './sequence-floor.js';
import {
  type MessageHandler,
  type ReplicationTransport,
  type RetentionInfo,
  RetryLater,
  type TransportSubscription,
} from './transport.js';

export interface NatsTransportOptions {
  servers: string[];
  /** Stream name prefix: region R's stream is `${stream}_${R}`. */
  stream?: string;
  /** How long a stream keeps messages (the longest partition that loses nothing). */
  maxAgeMs?: number;
  /** Copies of each stream in a NATS cluster (1, 3 or 5); default 1. */
  replicas?: number;
  /** Where the streams keep messages; default file. */
  storage?: 'file' | 'memory';
  /**
   * How long JetStream remembers message ids to drop a resend (a shipper that
   * crashed after the publish, before its trim); default 2 min, at most maxAge.
   */
  duplicateWindowMs?: number;
  /** Messages handled at once per subscription (each holds up to 512 events). */
  inFlight?: number;
  /** Redelivery delay after a failed apply, and the ack wait of a crashed relay's messages. */
  retryDelayMs?: number;
  ackWaitMs?: number;
  /** Each attempt's wait for the PubAck, and how many attempts before a write is refused. */
  publishTimeoutMs?: number;
  publishAttempts?: number;
  /** How often a relay checks that its consumer did not acknowledge past what it applied (repair-skipped.ts). */
  repairEveryMs?: number;
  /** How long a subscribe retries a JetStream that does not answer yet (a cluster electing its leaders). */
  startupRetryMs?: number;
  /** Credentials kept out of the URLs (a token, or user and password); see ReplicationCredentials. */
  auth?: { token?: string; user?: string; pass?: string };
  log?: Logger;
}

export interface NatsTransport extends ReplicationTransport {
  readonly kind: 'nats';
  readonly connection: NatsConnection;
}

const token = (region: string) => region.replace(/[^A-Za-z0-9_-]/g, '_');

export async function connectNatsTransport(options: NatsTransportOptions): Promise<NatsTransport> {
  const log = options.log ?? createLogger('replication');
  const prefix = options.stream ?? 'MERIDIAN_REPL';
  const inFlight = options.inFlight ?? 32;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const ackWaitMs = options.ackWaitMs ?? 10_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 2_000;
  const publishAttempts = options.publishAttempts ?? 3;
  const repairEveryMs = options.repairEveryMs ?? 5_000;
  const startupRetryMs = options.startupRetryMs ?? 60_000;
  let nc: NatsConnection;
  try {
    const auth = Object.fromEntries(Object.entries(options.auth ?? {}).filter(([, v]) => v));
    nc = await connect({
      servers: options.servers,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...auth,
    });
  } catch (err) {
    throw new MeridianError(
      'REPLICATION_UNAVAILABLE',
      `cannot connect to NATS at ${redactUrl(options.servers.join(', '))}`,
      [redactUrl(String(err))],
      { cause: err },
    );
  }
  const jsm: JetStreamManager = await whileStarting(log, 'JetStream API', startupRetryMs, () =>
    nc.jetstreamManager(),
  );
  const js: JetStreamClient = nc.jetstream();
  const streamOf = (source: string) => `${prefix}_${token(source)}`;
  const subjectOf = (source: string) => `meridian.repl.${prefix}.${token(source)}`;
  const durableOf = (destination: string) => `to_${token(destination)}`;
  const streams = new Map<string, Promise<void>>();
  const subscriptions = new Set<TransportSubscription>();
  /** What this process's relay applied, per source>destination: retention counts from it too. */
  const appliedFloors = new Map<string, SequenceFloor>();
  const pairKey = (source: string, destination: string) => `${source}>${destination}`;

  const ensureStream = (source: string) => {
    let ready = streams.get(source);
    if (!ready) {
      const maxAgeMs = options.maxAgeMs ?? 86_400_000;
      const config = {
        name: streamOf(source),
        subjects: [subjectOf(source)],
        storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
        num_replicas: options.replicas ?? 1,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_age: nanos(maxAgeMs),
        duplicate_window: nanos(Math.min(options.duplicateWindowMs ?? 120_000, maxAgeMs)),
      };
      ready = jsm.streams.add(config).then(
        () => undefined,
        // Exists with other settings (another version of us): bring it to ours.
        () => jsm.streams.update(config.name, config).then(() => undefined),
      );
      ready.catch(() => streams.delete(source));
      streams.set(source, ready);
    }
    return ready;
  };

  async function subscribe(source: string, destination: string, handler: MessageHandler) {
    const stream = streamOf(source);
    const durable = durableOf(destination);
    const consumerConfig = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: inFlight * 4,
    };
    // A cluster still electing its leaders (every process starting at once) answers with timeouts
    // for a few seconds: those are waited out, for startupRetryMs at most.
    const { added, consumer } = await whileStarting(
      log,
      `consumer ${durable} of ${stream}`,
      startupRetryMs,
      async () => {
        await ensureStream(source);
        // A durable that exists with other settings keeps its cursor; bring its settings to ours.
        const added = await jsm.consumers
          .add(stream, consumerConfig)
          .catch(() => jsm.consumers.update(stream, durable, consumerConfig));
        return { added, consumer: await js.consumers.get(stream, durable) };
      },
    );
    // What this relay applied, as a stream sequence floor; it starts where the consumer stands.
    const floor = new SequenceFloor(added.ack_floor.stream_seq);
    appliedFloors.set(pairKey(source, destination), floor);
    const active = new Set<Promise<void>>();
    const handle = (m: JsMsg) => {
      const done = handler(m.data)
        .then(
          () => true as const,
          (err) => {
            if (err instanceof RetryLater) return err.afterMs;
            log.warn({ err, source, destination }, 'replication message not applied; it will come again');
            return retryDelayMs;
          },
        )
        .then((retryInMs) => {
          // Before the ack: the consumer's ack floor must not pass this relay's on this message.
          if (retryInMs === true) floor.done(m.seq);
          try {
            if (retryInMs === true) m.ack();
            else m.nak(retryInMs);
          } catch {
            // Connection gone: the server redelivers after the ack wait.
          }
        });
      active.add(done);
      done.finally(() => active.delete(done));
    };
    let closing = false;
    let messages: ConsumerMessages | undefined;
    // Pulls expire after 5 s (default 30 s): a pull lost in a stream leader change after a partition is
    // sent again within seconds instead of half a minute. The client ends a consume on an error it
    // takes as final (a 400 bad request); the relay starts another rather than stop without a word.
    const consumeLoop = async () => {
      while (!closing) {
        try {
          messages = await consumer.consume({ max_messages: inFlight * 2, expires: 5000 });
          if (closing) messages.stop();
          for await (const m of messages) {
            handle(m);
            // Bound the work in hand; Redis sees the events of many messages pipelined.
            while (active.size >= inFlight) await Promise.race(active);
          }
          if (closing) return;
          log.warn({ source, destination }, 'replication consumer ended; starting it again');
        } catch (err) {
          if (closing) return;
          log.warn({ err, source, destination }, 'replication consumer failed; starting it again');
        }
        await sleep(retryDelayMs);
      }
    };
    const loop = consumeLoop();
    const stopRepair = new SkippedRepair({ jsm, stream, durable, floor, handler }).every(repairEveryMs, log, {
      source,
      destination,
    });
    const sub: TransportSubscription = {
      async close() {
        closing = true;
        stopRepair();
        subscriptions.delete(sub);
        if (appliedFloors.get(pairKey(source, destination)) === floor)
          appliedFloors.delete(pairKey(source, destination));
        messages?.stop();
        await loop.catch(() => undefined);
        await Promise.allSettled([...active]);
      },
    };
    subscriptions.add(sub);
    return sub;
  }

  return {
    kind: 'nats',
    connection: nc,
    async publish(source, data, publishOptions) {
      // A publish sent while the client reconnects can vanish; retry it. If the
      // first one was stored after all, JetStream drops the copy by its id (and
      // without an id, the copy is a harmless duplicate).
      const msgID = publishOptions?.msgId;
      let last: unknown;
      for (let attempt = 0; attempt < publishAttempts; attempt++) {
        try {
          await ensureStream(source);
          const ack = await js.publish(subjectOf(source), data, {
            timeout: publishTimeoutMs,
            ...(msgID ? { msgID } : {}),
          });
          // Expected after a retried publish whose first copy was stored; anything else means
          // JetStream believes it holds a message under this id that a reader may never see.
          if (ack.duplicate)
            log.warn(
              { stream: ack.stream, seq: ack.seq, msgId: msgID, attempt },
              'JetStream answered a publish as the duplicate of a message it holds',
            );
          else log.debug({ stream: ack.stream, seq: ack.seq, msgId: msgID }, 'published');
          return;
        } catch (err) {
          last = err;
          if (nc.isClosed()) break;
        }
      }
      throw new MeridianError(
        'REPLICATION_UNAVAILABLE',
        `JetStream did not accept the event: ${String(last)}`,
        [],
        {
          cause: last,
        },
      );
    },
    subscribe,
    async queueDepth(source, destination) {
      try {
        const info = await jsm.consumers.info(streamOf(source), durableOf(destination));
        return info.num_pending + info.num_ack_pending;
      } catch {
        // No consumer yet: everything in the stream is waiting for it.
        const info = await jsm.streams.info(streamOf(source)).catch(() => null);
        return info?.state.messages ?? 0;
      }
    },
    retention: (source, destination) =>
      retentionOf(
        jsm,
        streamOf(source),
        durableOf(destination),
        options.maxAgeMs ?? 86_400_000,
        appliedFloors.get(pairKey(source, destination))?.value ?? 0,
      ),
    async close() {
      await Promise.all([...subscriptions].map((s) => s.close()));
      // A drain waits for the server; with no server left (it went first) it would wait forever.
      await Promise.race([nc.drain().catch(() => undefined), sleep(2_000, undefined, { ref: false })]);
      if (!nc.isClosed()) await nc.close();
    },
  };
}

/** Runs fn until it succeeds, retrying for forMs at most with a growing pause; then its last error. */
async function whileStarting<T>(log: Logger, what: string, forMs: number, fn: () => Promise<T>): Promise<T> {
  const end = Date.now() + forMs;
  for (let pauseMs = 250, attempt = 1; ; attempt++, pauseMs = Math.min(pauseMs * 2, 2_000)) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() + pauseMs > end) throw err;
      log.warn({ err: String(err), attempt, what }, 'JetStream did not answer yet; trying again');
      await sleep(pauseMs);
    }
  }
}

/**
 * The consumer's next sequence is its ack floor + 1 (what a relay takes
 * first when it resumes); a stream without the consumer yet has nothing
 * owed to it that aged out (it would start at the first message kept).
 */
async function retentionOf(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  /** For a stream not made yet: the maxAge it will get. */
  maxAgeMs: number,
  /**
   * Applied by this process's relay up to here. The consumer's ack floor can stay behind it for
   * minutes: what the skipped-message repair applied from the stream is never acknowledged to the
   * consumer, and nats-server 2.9.10's consumer stood still after kongs (a 30-minute soak with a
   * 10-minute maxAge warned of retention running out with everything applied).
   */
  appliedUpTo: number,
): Promise<RetentionInfo> {
  const info = await jsm.streams.info(stream).catch(() => null);
  if (!info) return { oldestPendingAgeMs: null, maxAgeMs, gap: false, firstSeq: 1, lastSeq: 0, nextSeq: 1 };
  const { first_seq: firstSeq, last_seq: lastSeq, first_ts: firstTs } = info.state;
  const kept = info.config.max_age > 0 ? info.config.max_age / 1e6 : null;
  const consumer = await jsm.consumers.info(stream, durable).catch(() => null);
  const nextSeq = consumer ? Math.max(consumer.ack_floor.stream_seq, appliedUpTo) + 1 : firstSeq;
  const oldestSeq = Math.max(nextSeq, firstSeq);
  let oldestAt: number | null = null;
  if (oldestSeq <= lastSeq) {
    oldestAt =
      oldestSeq === firstSeq
        ? Date.parse(firstTs)
        : await jsm.streams.getMessage(stream, { seq: oldestSeq }).then(
            (m) => m.time.getTime(),
            () => Date.parse(firstTs),
          );
  }
  return {
    oldestPendingAgeMs: oldestAt === null ? null : Math.max(0, Date.now() - oldestAt),
    maxAgeMs: kept,
    gap: nextSeq < firstSeq,
    firstSeq,
    lastSeq,
    nextSeq,
  };
}
