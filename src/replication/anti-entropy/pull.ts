// One anti-entropy pass from a peer: compare per-range digests, fetch the
// peer's records of the ranges that differ, and apply those newer than ours
// through the apply script (which keeps the newer stamp, so writes made during
// the pass are never undone). Pull only: each region pulls what it lacks, so
// after both have pulled from each other they hold the same records.

import type { Redis } from 'ioredis';
import type { NatsConnection } from 'nats';
import { compareHlc, wallOfHlc } from '../hlc.js';
import { digest } from '../resync.js';
import type { RegionStore } from '../store.js';
import { compared, readDigests, readRecords } from './protocol.js';

export interface PullOptions {
  nc: NatsConnection;
  /** The peer's anti-entropy subject. */
  subject: string;
  redis: Redis;
  store: RegionStore;
  keyPrefix: string;
  ranges: number;
  timeoutMs: number;
  /**
   * Records stamped less than this long ago are left to replication (they may be on their way):
   * copying them would count ordinary lag as a repair.
   */
  inFlightMs: number;
  now?: () => number;
}

export interface PullResult {
  rangesDiffering: number;
  /** Records of the peer this region lacked or held older, now applied. */
  keysRepaired: number;
  /** Records where this region holds the newer write (the peer pulls those). */
  newerHere: number;
  /** Records newer than inFlightMs, left to replication. */
  inFlight: number;
}

export async function pullFrom(o: PullOptions): Promise<PullResult> {
  const ask = async (request: object) => {
    const reply = await o.nc.request(o.subject, JSON.stringify(request), { timeout: o.timeoutMs });
    return JSON.parse(Buffer.from(reply.data).toString('utf8')) as unknown;
  };
  const [theirs, ours] = await Promise.all([
    ask({ v: 1, op: 'digest', ranges: o.ranges }).then((r) => readDigests(r, o.ranges)),
    digest(
      o.redis,
      o.keyPrefix,
      o.ranges,
      () => {},
      () => {},
      compared,
    ),
  ]);
  const differing = [...theirs.differing(ours)];
  const result: PullResult = {
    rangesDiffering: differing.length,
    keysRepaired: 0,
    newerHere: 0,
    inFlight: 0,
  };
  const settledBefore = (o.now ?? Date.now)() - o.inFlightMs;
  if (differing.length === 0) return result;
  let cursor = '0';
  do {
    const page = readRecords(await ask({ v: 1, op: 'records', ranges: o.ranges, want: differing, cursor }));
    cursor = page.cursor;
    if (page.records.length === 0) continue;
    const mine = await o.redis.pipeline(page.records.map((r) => ['hget', o.keyPrefix + r.k, 'h'])).exec();
    const at = Date.now();
    const newer = page.records.filter((r, i) => {
      const [err, stamp] = mine?.[i] ?? [];
      if (!compared(r.k) || err) return false;
      if (stamp !== null && stamp !== undefined) {
        const order = compareHlc(r.h, String(stamp));
        if (order < 0) result.newerHere++;
        if (order <= 0) return false;
      }
      if (wallOfHlc(r.h) > settledBefore) {
        result.inFlight++;
        return false;
      }
      return true;
    });
    const outcomes = await Promise.all(
      newer.map((r) =>
        o.store.apply(
          r.v === null
            ? { op: 'del', key: r.k, hlc: r.h, at }
            : { op: 'set', key: r.k, value: r.v, hlc: r.h, at, ...(r.x ? { expireAt: r.x } : {}) },
        ),
      ),
    );
    for (const { outcome } of outcomes) if (outcome === 'applied') result.keysRepaired++;
  } while (cursor !== '0');
  return result;
}
