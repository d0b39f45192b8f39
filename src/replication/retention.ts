// Retention headroom: how long each destination can stay away from a source
// before the source's stream discards events it has not taken (nats.maxAge),
// and a gap flag once it did. A gap is recovered only by an explicit resync
// (resync.ts); the flag lives in the destination's Redis so it survives
// restarts, and JetStream forgets the evidence as soon as a relay resumes.
import type { Redis } from 'ioredis';
import { Gauge, Registry } from 'prom-client';
import type { EdgeReport } from '../feed/report.js';
import { createLogger, type Logger } from '../log.js';
import type { ReplicationTransport, RetentionInfo } from './transport.js';

/** Below this share of maxAge left, the headroom is low: warn. */
export const LOW_HEADROOM_SHARE = 0.25;
/** An outbox fuller than this share of outbox.maxLength: warn. */
export const HIGH_OUTBOX_SHARE = 0.75;

export type ReplicationRetention = NonNullable<EdgeReport['replicationRetention']>;

export interface PairRetention {
  /** maxAge minus the age of the oldest event not taken; null when the log is not bounded by age. */
  headroomMs: number | null;
  maxAgeMs: number | null;
  oldestPendingAgeMs: number | null;
  low: boolean;
  gap: boolean;
}

/** Redis key (destination's Redis) flagging events of `source` lost to retention. */
export const gapFlagKey = (keyPrefix: string, source: string) => `${keyPrefix}__gap:${source}`;
/** Redis key: the source's last sequence when a resync began; events up to it need no flag. */
export const resyncedKey = (keyPrefix: string, source: string) => `${keyPrefix}__resynced:${source}`;

/**
 * The headroom/gap rule. Events nextSeq..firstSeq-1 aged out untaken; those
 * up to `coveredUpTo` were covered by a resync that began after they were
 * written, so only later ones make a gap.
 */
export function judgeRetention(info: RetentionInfo, coveredUpTo = 0): Omit<PairRetention, 'maxAgeMs'> {
  const headroomMs =
    info.maxAgeMs === null ? null : Math.max(0, info.maxAgeMs - (info.oldestPendingAgeMs ?? 0));
  return {
    headroomMs,
    oldestPendingAgeMs: info.oldestPendingAgeMs,
    low: headroomMs !== null && info.maxAgeMs !== null && headroomMs < info.maxAgeMs * LOW_HEADROOM_SHARE,
    gap: Math.max(info.nextSeq, coveredUpTo + 1) < info.firstSeq,
  };
}

/** What the edge reports to control: the worst source. null when nothing is known. */
export function summarizeRetention(pairs: ReadonlyMap<string, PairRetention>): ReplicationRetention | null {
  if (pairs.size === 0) return null;
  const headrooms = [...pairs.values()].map((p) => p.headroomMs).filter((h): h is number => h !== null);
  const gapFrom = [...pairs].filter(([, p]) => p.gap).map(([source]) => source);
  return {
    headroomS: headrooms.length ? Math.min(...headrooms) / 1000 : null,
    low: [...pairs.values()].some((p) => p.low),
    gap: gapFrom.length > 0,
    gapFrom,
  };
}

/** How often to look: a twentieth of maxAge, between 250 ms and 30 s. */
export const retentionCheckIntervalMs = (maxAgeMs: number) =>
  Math.min(30_000, Math.max(250, Math.round(maxAgeMs / 20)));

interface RetentionGauges {
  headroom: Gauge<'source' | 'destination'>;
  gap: Gauge<'source' | 'destination'>;
}
const gaugesByRegistry = new WeakMap<Registry, RetentionGauges>();

function retentionGauges(registry: Registry): RetentionGauges {
  let g = gaugesByRegistry.get(registry);
  if (!g) {
    g = {
      headroom: new Gauge({
        name: 'meridian_replication_retention_headroom_seconds',
        help: "Time left before the source's stream discards the oldest event the destination has not taken (maxAge minus its age)",
        labelNames: ['source', 'destination'],
        registers: [registry],
      }),
      gap: new Gauge({
        name: 'meridian_replication_gap',
        help: '1 when events of the source aged out before the destination took them; cleared by `meridian replication resync`',
        labelNames: ['source', 'destination'],
        registers: [registry],
      }),
    };
    gaugesByRegistry.set(registry, g);
  }
  return g;
}

export interface RetentionMonitorOptions {
  /** The destination. */
  region: string;
  sources: readonly string[];
  transport: ReplicationTransport;
  /** The destination's Redis, where gap flags live; without it a flag lasts as long as the process. */
  redis?: Redis;
  keyPrefix?: string;
  /** 0: no timer, only check() (tests). */
  intervalMs?: number;
  registry?: Registry;
  log?: Logger;
  /** This region's outbox against replication.outbox.maxLength: warned about when nearly full. */
  outbox?: { depth(): Promise<number>; maxLength: number };
}

export interface RetentionMonitor {
  /** Looks now; resolves with the state of every source. */
  check(): Promise<ReadonlyMap<string, PairRetention>>;
  /** The last state seen, per source. */
  state(): ReadonlyMap<string, PairRetention>;
  summary(): ReplicationRetention | null;
  close(): void;
}

type Level = 'ok' | 'low' | 'gap';
const levelOf = (p: PairRetention): Level => (p.gap ? 'gap' : p.low ? 'low' : 'ok');

export function startRetentionMonitor(options: RetentionMonitorOptions): RetentionMonitor {
  const { region, transport, redis } = options;
  const keyPrefix = options.keyPrefix ?? 'mc:';
  const log = options.log ?? createLogger('replication');
  const gauges = retentionGauges(options.registry ?? new Registry());
  const sources = [...new Set(options.sources)].filter((s) => s !== region);
  const pairs = new Map<string, PairRetention>();
  const levels = new Map<string, Level>();
  const memoryFlags = new Set<string>();
  let failing = false;
  let outboxHigh = false;

  const flagged = async (source: string) =>
    redis ? (await redis.get(gapFlagKey(keyPrefix, source))) !== null : memoryFlags.has(source);
  const covered = async (source: string) =>
    redis ? Number((await redis.get(resyncedKey(keyPrefix, source))) ?? 0) : 0;
  const flag = async (source: string, info: RetentionInfo) => {
    const detail = { detectedAt: Date.now(), nextSeq: info.nextSeq, firstSeq: info.firstSeq };
    if (redis) await redis.set(gapFlagKey(keyPrefix, source), JSON.stringify(detail), 'NX');
    else memoryFlags.add(source);
  };

  const checkSource = async (source: string, retention: NonNullable<ReplicationTransport['retention']>) => {
    const info = await retention(source, region);
    const judged = judgeRetention(info, await covered(source));
    if (judged.gap) await flag(source, info);
    const pair: PairRetention = {
      ...judged,
      maxAgeMs: info.maxAgeMs,
      gap: judged.gap || (await flagged(source)),
    };
    pairs.set(source, pair);
    gauges.headroom.set(
      { source, destination: region },
      pair.headroomMs === null ? Infinity : pair.headroomMs / 1000,
    );
    gauges.gap.set({ source, destination: region }, pair.gap ? 1 : 0);
    const level = levelOf(pair);
    const before = levels.get(source) ?? 'ok';
    levels.set(source, level);
    if (level === before) return;
    const fields = {
      source,
      destination: region,
      headroomS: pair.headroomMs === null ? null : pair.headroomMs / 1000,
      maxAgeS: pair.maxAgeMs === null ? null : pair.maxAgeMs / 1000,
    };
    if (level === 'gap') {
      log.error(
        { ...fields, missedFrom: info.nextSeq, keptFrom: info.firstSeq },
        `replication events from ${source} aged out before ${region} took them: run meridian replication resync --region ${region} --from ${source}`,
      );
    } else if (level === 'low') {
      log.warn(
        fields,
        `replication retention headroom from ${source} is below ${LOW_HEADROOM_SHARE * 100} % of maxAge`,
      );
    } else {
      log.info(fields, `replication retention from ${source} is healthy again`);
    }
  };

  const checkOutbox = async () => {
    if (!options.outbox) return;
    const depth = await options.outbox.depth();
    const high = depth > options.outbox.maxLength * HIGH_OUTBOX_SHARE;
    if (high !== outboxHigh) {
      const fields = { region, depth, maxLength: options.outbox.maxLength };
      if (high)
        log.warn(fields, `replication outbox is above ${HIGH_OUTBOX_SHARE * 100} % of outbox.maxLength`);
      else log.info(fields, 'replication outbox has room again');
    }
    outboxHigh = high;
  };

  const check = async () => {
    const retention = transport.retention?.bind(transport);
    try {
      if (retention) for (const source of sources) await checkSource(source, retention);
      await checkOutbox();
      if (failing) log.info({ region }, 'replication retention check works again');
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ region, reason: String(err) }, 'replication retention check failed; retrying');
      failing = true;
    }
    return pairs;
  };

  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const schedule = () => {
    if (closed || !options.intervalMs) return;
    timer = setTimeout(() => check().finally(schedule), options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    check,
    state: () => pairs,
    summary: () => summarizeRetention(pairs),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
