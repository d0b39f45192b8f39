// When a region pulls from its peers: every `intervalMs` (a slow sweep), and
// soon after a peer's events start arriving again once they had stopped (the
// lag probe's canary from it was late by more than `disturbedAfterMs`): a
// partition's heal, a peer back from the dead. Streams that lost or reordered
// something in between (nats-server 2.9.10 was seen handing two replicas
// different messages under one sequence after a heal) are repaired then.

import type { Redis } from 'ioredis';
import type { NatsConnection } from 'nats';
import { Counter, Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import { RegionStore } from '../store.js';
import { antiEntropySubject } from './protocol.js';
import { pullFrom } from './pull.js';
import { serveAntiEntropy } from './responder.js';

/** After a peer's events arrive again: pull once its backlog had time to flow, and once more later. */
export const RECOVERY_PULLS_MS = [10_000, 30_000];
/** What replication normally delivers within: younger records are not copied (nor counted). */
export const IN_FLIGHT_MS = 5_000;
const WATCH_EVERY_MS = 1_000;

export interface AntiEntropyOptions {
  region: string;
  peers: readonly string[];
  nc: NatsConnection;
  streamPrefix: string;
  redis: Redis;
  keyPrefix: string;
  tombstoneTtlMs: number;
  ranges: number;
  /** The slow sweep; 0: none. */
  intervalMs: number;
  /** Pull from a peer whose events arrive again after they stopped. */
  afterRecovery: boolean;
  /** Lag from each peer (the lag probe), null when unknown. */
  lags: () => Map<string, number | null> | undefined;
  disturbedAfterMs: number;
  timeoutMs?: number;
  /** Default RECOVERY_PULLS_MS; tests shorten it. */
  recoveryPullsMs?: readonly number[];
  /** Default IN_FLIGHT_MS; tests shorten it. */
  inFlightMs?: number;
  registry?: Registry;
  log: Logger;
}

export interface AntiEntropy {
  /** One pass from the peer now (or from every peer). */
  pull(peer?: string): Promise<void>;
  close(): void;
}

export function startAntiEntropy(o: AntiEntropyOptions): AntiEntropy {
  const metrics = antiEntropyMetrics(o.registry ?? new Registry());
  const responder = serveAntiEntropy({
    nc: o.nc,
    subject: antiEntropySubject(o.streamPrefix, o.region),
    redis: o.redis,
    keyPrefix: o.keyPrefix,
    log: o.log,
  });
  const store = new RegionStore(o.redis, { keyPrefix: o.keyPrefix, tombstoneTtlMs: o.tombstoneTtlMs });
  const timers = new Set<NodeJS.Timeout>();
  const running = new Map<string, Promise<void>>();
  let closed = false;

  const pullOne = (peer: string): Promise<void> => {
    const busy = running.get(peer);
    if (busy) return busy;
    const pass = pullFrom({
      nc: o.nc,
      subject: antiEntropySubject(o.streamPrefix, peer),
      redis: o.redis,
      store,
      keyPrefix: o.keyPrefix,
      ranges: o.ranges,
      timeoutMs: o.timeoutMs ?? 10_000,
      inFlightMs: o.inFlightMs ?? IN_FLIGHT_MS,
    }).then(
      (r) => {
        metrics.passes.inc({ source: peer, destination: o.region, result: 'ok' });
        metrics.repaired.inc({ source: peer, destination: o.region }, r.keysRepaired);
        if (r.keysRepaired > 0)
          o.log.warn(
            { source: peer, ...r },
            'anti-entropy repaired records that replication had not delivered from the peer',
          );
        else o.log.debug({ source: peer, ...r }, 'anti-entropy pass: nothing to repair');
      },
      (err: Error) => {
        metrics.passes.inc({ source: peer, destination: o.region, result: 'failed' });
        o.log.info({ source: peer, err: err.message }, 'anti-entropy pass failed; a later one tries again');
      },
    );
    running.set(peer, pass);
    return pass.finally(() => running.delete(peer));
  };
  const later = (ms: number, fn: () => void) => {
    if (closed) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) fn();
    }, ms);
    t.unref();
    timers.add(t);
  };

  if (o.intervalMs > 0) {
    const sweep = () => {
      void Promise.all(o.peers.map(pullOne)).finally(() => later(jitter(o.intervalMs), sweep));
    };
    later(jitter(o.intervalMs), sweep);
  }
  if (o.afterRecovery) {
    const disturbed = new Set<string>();
    const watch = () => {
      const lags = o.lags();
      for (const peer of o.peers) {
        const lag = lags?.get(peer);
        if (lag === undefined) continue;
        if (lag === null || lag > o.disturbedAfterMs) disturbed.add(peer);
        else if (disturbed.delete(peer))
          for (const ms of o.recoveryPullsMs ?? RECOVERY_PULLS_MS) later(ms, () => void pullOne(peer));
      }
      later(WATCH_EVERY_MS, watch);
    };
    later(WATCH_EVERY_MS, watch);
  }
  return {
    pull: async (peer) => {
      await Promise.all((peer ? [peer] : o.peers).map(pullOne));
    },
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      responder.close();
    },
  };
}

/** ±10 %, so regions started together do not sweep together. */
const jitter = (ms: number) => Math.round(ms * (0.9 + Math.random() * 0.2));

interface AntiEntropyMetrics {
  passes: Counter<'source' | 'destination' | 'result'>;
  repaired: Counter<'source' | 'destination'>;
}
const byRegistry = new WeakMap<Registry, AntiEntropyMetrics>();

function antiEntropyMetrics(registry: Registry): AntiEntropyMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = {
      passes: new Counter({
        name: 'meridian_replication_anti_entropy_passes_total',
        help: 'Anti-entropy passes from a peer region, by result (ok, failed).',
        labelNames: ['source', 'destination', 'result'],
        registers: [registry],
      }),
      repaired: new Counter({
        name: 'meridian_replication_anti_entropy_repaired_total',
        help: 'Records anti-entropy copied from a peer because replication had not delivered them (any is worth a look).',
        labelNames: ['source', 'destination'],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, m);
  }
  return m;
}
