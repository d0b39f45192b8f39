// The shipper of one region: publishes the outbox (outbox-script.ts) in order,
// one transport message per batch, and trims an entry only after the
// transport stored it (JetStream's PubAck). Killed at any moment it loses
// nothing: what it published but did not trim is sent again by the next
// shipper under the same message id (`${region}:${firstEntryId}:${lastEntryId}`), which
// JetStream drops as a duplicate within the stream's duplicate window; a
// differently cut resend is still harmless (the relay applies by stamp).
// One shipper per region at a time: a Redis lease; a second one waits.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Registry } from 'prom-client';
import { createLogger, type Logger } from '../log.js';
import { joinEncodedBuffers, MAX_BATCH_BYTES } from './event.js';
import { replicationMetrics } from './metrics.js';
import { shipperLeaseKey } from './outbox-script.js';
import { type CacheStore, type OutboxEntry, RegionStore, storeOf } from './store.js';
import type { ReplicationTransport } from './transport.js';

export interface ShipperOptions {
  region: string;
  /** The region's store, or its Redis (a RegionStore on it is made). */
  store?: CacheStore;
  redis?: Redis;
  transport: ReplicationTransport;
  keyPrefix?: string;
  registry?: Registry;
  log?: Logger;
  /** Events in one message at most (an outbox entry, one write script's events, is never split). */
  batchMax?: number;
  /** Outbox entries read at once at most (fewer when entries hold many events). */
  readMax?: number;
  /** Wait between looks at an empty outbox. */
  idleMs?: number;
  /** How long the lease outlives a shipper that stopped renewing it (killed). */
  leaseMs?: number;
  /** Wait after a refused publish. */
  retryDelayMs?: number;
  /**
   * Messages published and not yet acknowledged at once. More than one keeps
   * the link busy while a PubAck travels back (a cross-region round trip);
   * acknowledgements are still taken, and the outbox trimmed, in order.
   */
  inFlight?: number;
}

export interface ShipperStats {
  shipped: number;
  batches: number;
  failures: number;
}

export interface Shipper {
  stats(): ShipperStats;
  /** Events in the outbox, not yet acknowledged by the transport. */
  depth(): Promise<number>;
  close(): Promise<void>;
}

// Renews the lease only while it is still ours; takes it when free.
const LEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
`;
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export function startShipper(options: ShipperOptions): Shipper {
  const { region, transport } = options;
  const log = options.log ?? createLogger('replication');
  const registry = options.registry ?? new Registry();
  const store = storeOf(options);
  const batchMax = options.batchMax ?? 512;
  const readMax = options.readMax ?? 512;
  // An entry holds a write script's events: one for a lone write (or an entry of the previous
  // format), up to 256 in a burst. A read takes about what the free in-flight slots can send, as
  // judged by the last read: more is read again later, and a large reply costs the parser dearly.
  let eventsPerEntry = 1;
  const readCount = () =>
    Math.max(1, Math.min(readMax, Math.ceil((batchMax * (inFlight - pending.length)) / eventsPerEntry)));
  const idleMs = options.idleMs ?? 5;
  const leaseMs = options.leaseMs ?? 5_000;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const inFlight = Math.max(1, options.inFlight ?? 4);
  const redis = options.redis ?? (store instanceof RegionStore ? store.redis : undefined);
  const leaseKey = shipperLeaseKey(
    options.keyPrefix ?? (store instanceof RegionStore ? store.keyPrefix : 'mc:'),
  );
  const token = `${region}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const metrics = replicationMetrics(registry);
  const published = metrics.published.labels(region);
  const publishFailures = metrics.publishFailures.labels(region);
  const gauges = shipperMetrics(registry);
  const shipped = gauges.shipped.labels(region);
  const report = async () => {
    const [depth, oldest] = await Promise.all([store.outboxDepth(), store.outboxOldestAgeMs()]);
    gauges.depth.set({ region }, depth);
    gauges.oldest.set({ region }, (oldest ?? 0) / 1000);
  };
  gauges.reporters.add(report);
  const stats: ShipperStats = { shipped: 0, batches: 0, failures: 0 };
  let running = true;
  let wake: (() => void) | null = null;
  let leaseRenewedAt = 0;
  let lastWarnAt = 0;
  /** The last entry this shipper saw acknowledged; '0-0' after taking the lease (read from the head). */
  let cursor = '0-0';
  let trimming: Promise<void> = Promise.resolve();

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  /** True while this shipper holds the lease (always, without a Redis: one process). */
  const holdLease = async (): Promise<boolean> => {
    if (!redis) return true;
    if (Date.now() - leaseRenewedAt < leaseMs / 3) return true;
    const ours = (await redis.eval(LEASE_LUA, 1, leaseKey, token, leaseMs)) === 1;
    if (!ours || leaseRenewedAt === 0) cursor = '0-0';
    leaseRenewedAt = ours ? Date.now() : 0;
    return ours;
  };

  const warnRefused = async (err: unknown) => {
    if (Date.now() - lastWarnAt <= 10_000) return;
    lastWarnAt = Date.now();
    log.warn(
      { region, reason: String(err), waiting: await store.outboxDepth().catch(() => null) },
      'replication events wait in the outbox: the transport did not accept them',
    );
  };

  /** Publishes one message; resolves to its entries once the transport acknowledged it, or null. */
  const publishMessage = (message: OutboxEntry[]): Promise<OutboxEntry[] | null> => {
    const data = joinEncodedBuffers(
      region,
      message.map((e) => e.encoded),
    );
    // The id names the message's whole range. A resend after a refusal starts at the last
    // acknowledged entry and cuts messages afresh, so its last entry can end a message JetStream
    // already stored with fewer entries: by the last entry alone, JetStream would drop the resend
    // as that message's duplicate, and the entries before it were lost (seen in a proxy split-brain).
    const msgId = `${region}:${message[0].id}:${message[message.length - 1].id}`;
    return transport.publish(region, data, { msgId }).then(
      () => message,
      async (err) => {
        stats.failures++;
        publishFailures.inc(eventsIn(message));
        await warnRefused(err);
        return null;
      },
    );
  };

  /** Only now: the transport has the events. The trim is not waited for; one that fails leaves events the next shipper sends again, harmlessly. */
  const acknowledged = (message: OutboxEntry[]) => {
    const lastId = message[message.length - 1].id;
    cursor = lastId;
    trimming = trimming.then(() =>
      store.trimOutbox(lastId).catch((err) => {
        log.warn(
          { region, reason: String(err) },
          'replication outbox not trimmed; its events may be sent twice',
        );
      }),
    );
    const events = eventsIn(message);
    stats.shipped += events;
    stats.batches++;
    published.inc(events);
    shipped.inc(events);
  };

  /**
   * Messages in flight, oldest first. The read position runs ahead of `cursor`
   * (the last acknowledged entry); after a refusal it falls back to the cursor
   * and what was in flight goes again, cut afresh (so under new ids where the cut differs).
   */
  interface InFlight {
    outcome: Promise<OutboxEntry[] | null>;
    settled: boolean;
  }
  const pending: InFlight[] = [];
  let readFrom = cursor;
  const send = (message: OutboxEntry[]) => {
    const entry: InFlight = { outcome: publishMessage(message), settled: false };
    void entry.outcome.then(() => {
      entry.settled = true;
      wake?.();
    });
    pending.push(entry);
  };
  const dropInFlight = async () => {
    await Promise.allSettled(pending.splice(0).map((p) => p.outcome));
    readFrom = cursor;
  };
  /** Takes the outcomes that came in, in order; false at the first refusal (the rest goes again). */
  const takeSettled = async (): Promise<boolean> => {
    while (pending.length > 0 && pending[0].settled) {
      const message = await pending.shift()!.outcome;
      if (!message) {
        await dropInFlight();
        return false;
      }
      acknowledged(message);
    }
    return true;
  };

  const loop = (async () => {
    while (running) {
      try {
        if (!(await holdLease())) {
          await dropInFlight();
          await pause(leaseMs / 3);
          continue;
        }
        if (!(await takeSettled())) {
          await pause(retryDelayMs);
          continue;
        }
        if (pending.length === 0) readFrom = cursor;
        if (pending.length < inFlight) {
          const count = readCount();
          const entries = await store.readOutbox(readFrom, count);
          if (entries.length > 0) {
            eventsPerEntry = Math.max(1, eventsIn(entries) / entries.length);
            const messages = cutMessages(entries, batchMax).slice(0, inFlight - pending.length);
            for (const message of messages) send(message);
            const last = messages[messages.length - 1];
            readFrom = last[last.length - 1].id;
            if (entries.length === count || readFrom !== entries[entries.length - 1].id) continue;
          }
        }
        // Until a PubAck comes in (send wakes this) or new writes may be waiting.
        await pause(pending.length >= inFlight ? retryDelayMs * 40 : idleMs);
      } catch (err) {
        stats.failures++;
        await dropInFlight();
        if (Date.now() - lastWarnAt > 10_000) {
          lastWarnAt = Date.now();
          log.warn({ region, reason: String(err) }, 'replication shipper cannot read its outbox; retrying');
        }
        await pause(retryDelayMs);
      }
    }
    await dropInFlight();
  })();

  log.info({ region, transport: transport.kind }, 'replication shipper started');
  return {
    stats: () => ({ ...stats }),
    depth: () => store.outboxDepth(),
    async close() {
      running = false;
      wake?.();
      await loop;
      await trimming;
      gauges.reporters.delete(report);
      if (redis && leaseRenewedAt > 0) await redis.eval(RELEASE_LUA, 1, leaseKey, token).catch(() => 0);
    },
  };
}

const eventsIn = (entries: readonly OutboxEntry[]) => entries.reduce((n, e) => n + e.events, 0);

/**
 * Consecutive entries in messages of at most `maxEvents` events and
 * MAX_BATCH_BYTES. An entry is never split (the message id names entries);
 * the write script keeps each under MAX_BATCH_BYTES.
 */
export function cutMessages(entries: readonly OutboxEntry[], maxEvents: number): OutboxEntry[][] {
  const messages: OutboxEntry[][] = [];
  let current: OutboxEntry[] = [];
  let bytes = 0;
  let events = 0;
  for (const e of entries) {
    const size = e.encoded.length + 1;
    if (current.length > 0 && (bytes + size > MAX_BATCH_BYTES || events + e.events > maxEvents)) {
      messages.push(current);
      current = [];
      bytes = 0;
      events = 0;
    }
    current.push(e);
    bytes += size;
    events += e.events;
  }
  if (current.length > 0) messages.push(current);
  return messages;
}

interface ShipperMetrics {
  depth: Gauge<'region'>;
  oldest: Gauge<'region'>;
  shipped: Counter<'region'>;
  reporters: Set<() => Promise<void>>;
}

const byRegistry = new WeakMap<Registry, ShipperMetrics>();

function shipperMetrics(registry: Registry): ShipperMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const reporters = new Set<() => Promise<void>>();
  const collect = async () => {
    await Promise.all([...reporters].map((r) => r().catch(() => undefined)));
  };
  const m: ShipperMetrics = {
    depth: new Gauge({
      name: 'meridian_replication_outbox_depth',
      help: 'Events in the region outbox not yet acknowledged by the transport',
      labelNames: ['region'],
      registers: [registry],
      collect,
    }),
    oldest: new Gauge({
      name: 'meridian_replication_outbox_oldest_seconds',
      help: 'Age of the oldest event in the region outbox (0 when empty)',
      labelNames: ['region'],
      registers: [registry],
    }),
    shipped: new Counter({
      name: 'meridian_replication_shipped_events_total',
      help: 'Events the shipper published from the outbox and trimmed after the transport acknowledged them',
      labelNames: ['region'],
      registers: [registry],
    }),
    reporters,
  };
  byRegistry.set(registry, m);
  return m;
}
