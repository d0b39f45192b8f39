// Replication lag as a health signal: each region writes a canary key every
// interval through the replicated cache, and watches its own Redis for the
// other regions' canaries. lagMs(source) is how far behind this region is on
// source's writes: the delay of the newest canary seen, growing while none
// arrives (a cut link shows as lag that climbs by the second).
import { Registry } from 'prom-client';
import { createLogger, type Logger } from '../log.js';
import { INTERNAL_PREFIX, type ReplicatedCache } from './cache.js';
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
  close(): void;
}

interface Seen {
  writtenAt: number;
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

  const lagMs = (source: string): number | null => {
    const s = seen.get(source);
    if (!s) return null;
    // Between canaries the newest one is legitimately up to one interval old.
    return Math.max(s.delayMs, now() - s.writtenAt - intervalMs);
  };

  const writeCanary = () => {
    const at = now();
    cache
      .set(canaryKey(region), JSON.stringify({ at }), { ttlMs: 3_600_000 })
      .catch((err) => log.warn({ err }, 'lag probe could not write its canary'));
  };

  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      for (const source of sources) {
        const raw = await cache.get(canaryKey(source));
        const at = raw === null ? Number.NaN : Number((JSON.parse(raw) as { at?: unknown }).at);
        if (Number.isFinite(at) && at !== seen.get(source)?.writtenAt) {
          seen.set(source, { writtenAt: at, delayMs: Math.max(0, now() - at) });
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
    close() {
      clearInterval(writer);
      clearInterval(poller);
    },
  };
}
