// Replication lag as a health signal: each region writes a canary key every
// interval through the replicated cache, and watches its own Redis for the
// other regions' canaries. lagMs(source) is how far behind this region is on
// source's writes: the delay of the newest canary seen, growing while none
// arrives (a cut link shows as lag that climbs by the second).
import { Registry } from 'prom-client';
import { createLogger, type Logger } from '../log.js';
import { INTERNAL_PREFIX, type ReplicatedCache } from './cache.js';
import { ClockOffsetEstimator } from './clock-offset.js';
import { replicationMetrics } from './metrics.js';

export const canaryKey = (region: string) => `${INTERNAL_PREFIX}canary:${region}`;

export interface LagProbeOptions {
  cache: ReplicatedCache;
  /** Every region taking part; the probe watches all but its own. */
  regions: readonly string[];
  intervalMs?: number;
  pollMs?: number;
  registry?: Registry;
  log?: Logger;
  now?: () => number;
}

export interface LagProbe {
  readonly region: string;
  /** Lag of source's writes into this region, in ms; null before the first canary arrived. */
  lagMs(source: string): number | null;
  /** Every source's lag into this region. */
  lags(): Map<string, number | null>;
  /**
   * The worst lag into this region: the edge's `replicationLagMs`. null when
   * nothing is known yet (report nothing rather than a made-up 0).
   */
  maxLagMs(): number | null;
  /** How far this region's clock runs ahead of its peers' (ms, from the canaries; null before one arrived). */
  clock(): { aheadOfPeersMs: number | null; peers: Record<string, number | null> };
  close(): void;
}

interface Seen {
  /** The canary's time by its writer's clock (tells a new canary from the last one). */
  writtenAt: number;
  /** The same moment by this region's clock, once the offset was measured both ways. */
  localWrittenAt: number;
  delayMs: number;
}

export function startLagProbe(options: LagProbeOptions): LagProbe {
  const { cache } = options;
  const region = cache.region;
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 1000;
  const pollMs = options.pollMs ?? 20;
  const log = options.log ?? createLogger('replication');
  const gauge = replicationMetrics(options.registry ?? new Registry()).probeLag;
  const sources = [...new Set(options.regions)].filter((r) => r !== region);
  const seen = new Map<string, Seen>();
  let polling = false;
  // The canaries double as clock probes: the cache's clock clamps its stamps
  // when this region is measured too far ahead of the others.
  const offsets = new ClockOffsetEstimator();
  const aheadOfPeers = () => offsets.aheadOfPeersMs();
  cache.clock.followPeers(aheadOfPeers);

  const lagMs = (source: string): number | null => {
    const s = seen.get(source);
    if (!s) return null;
    // Between canaries the newest one is legitimately up to one interval old.
    return Math.max(s.delayMs, now() - s.localWrittenAt - intervalMs);
  };

  const writeCanary = () => {
    const at = now();
    cache
      .set(canaryKey(region), JSON.stringify({ at, ahead: offsets.bounds() }), { ttlMs: 3_600_000 })
      .catch((err) => log.warn({ err }, 'lag probe could not write its canary'));
  };

  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      for (const source of sources) {
        const raw = await cache.get(canaryKey(source));
        const canary =
          raw === null ? {} : (JSON.parse(raw) as { at?: unknown; ahead?: Record<string, unknown> });
        const at = Number(canary.at);
        if (Number.isFinite(at) && at !== seen.get(source)?.writtenAt) {
          const seenAt = now();
          offsets.sample(source, at, seenAt);
          offsets.peerReport(source, canary.ahead?.[region]);
          // Lag by this region's clock: a peer whose clock runs ahead or behind must not read as lag.
          const localWrittenAt = at + (offsets.bothWaysAheadOfMs(source) ?? 0);
          seen.set(source, { writtenAt: at, localWrittenAt, delayMs: Math.max(0, seenAt - localWrittenAt) });
        }
        const lag = lagMs(source);
        if (lag !== null) gauge.set({ source, destination: region }, lag / 1000);
      }
    } catch (err) {
      log.debug({ err }, 'lag probe poll failed');
    } finally {
      polling = false;
    }
  };

  writeCanary();
  const writer = setInterval(writeCanary, intervalMs);
  writer.unref();
  const poller = setInterval(poll, pollMs);
  poller.unref();

  return {
    region,
    lagMs,
    lags: () => new Map(sources.map((s) => [s, lagMs(s)])),
    maxLagMs() {
      const known = sources.map(lagMs).filter((l): l is number => l !== null);
      return known.length === 0 ? null : Math.max(...known);
    },
    clock: () => ({ aheadOfPeersMs: offsets.aheadOfPeersMs(), peers: offsets.peers() }),
    close() {
      // A probe that stopped measuring must not keep the clock clamped on an old estimate.
      cache.clock.unfollowPeers(aheadOfPeers);
      clearInterval(writer);
      clearInterval(poller);
    },
  };
}
