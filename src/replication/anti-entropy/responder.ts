// Answers other regions' anti-entropy requests from this region's Redis: the
// per-range digests of every record, and pages of the records in the ranges
// they ask for (values, stamps, tombstones and expiries).

import type { Redis } from 'ioredis';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '../../log.js';
import { digest, expiries, rangeOf, recordsPage } from '../resync.js';
import {
  type AntiEntropyReply,
  type AntiEntropyRequest,
  compared,
  digestReply,
  MAX_REPLY_BYTES,
  parseRequest,
  type WireRecord,
} from './protocol.js';

export interface ResponderOptions {
  nc: NatsConnection;
  subject: string;
  redis: Redis;
  keyPrefix: string;
  log: Logger;
}

export function serveAntiEntropy(o: ResponderOptions): { close(): void } {
  const sub: Subscription = o.nc.subscribe(o.subject, {
    callback: (err, msg) => {
      if (err) return;
      void answer(o, msg.data).then(
        (reply) => msg.respond(JSON.stringify(reply)),
        (e: Error) => {
          o.log.warn({ err: e.message }, 'anti-entropy request not answered');
          msg.respond(JSON.stringify({ v: 1, error: 'this region could not read its records' }));
        },
      );
    },
  });
  return { close: () => sub.unsubscribe() };
}

async function answer(o: ResponderOptions, data: Uint8Array): Promise<AntiEntropyReply> {
  const request = parseRequest(data);
  if (typeof request === 'string') return { v: 1, error: request };
  if (request.op === 'digest')
    return digestReply(
      await digest(
        o.redis,
        o.keyPrefix,
        request.ranges,
        () => {},
        () => {},
        compared,
      ),
    );
  return recordsOf(o, request);
}

async function recordsOf(
  o: ResponderOptions,
  request: Extract<AntiEntropyRequest, { op: 'records' }>,
): Promise<AntiEntropyReply> {
  const want = new Set(request.want);
  const out: WireRecord[] = [];
  let bytes = 0;
  let cursor = request.cursor;
  do {
    // Small SCAN steps: one step's records must fit a reply even when values are large.
    const page = await recordsPage(o.redis, o.keyPrefix, ['h', 'v'], cursor, 100);
    cursor = page.next;
    const wanted = page.batch.filter(({ key }) => compared(key) && want.has(rangeOf(key, request.ranges)));
    const expireAts = await expiries(
      o.redis,
      wanted.map(({ key }) => o.keyPrefix + key),
    );
    wanted.forEach(({ key, values: [h, v] }, i) => {
      const record: WireRecord = {
        k: key,
        h: h!,
        v: v ?? null,
        ...(expireAts[i] ? { x: expireAts[i] } : {}),
      };
      out.push(record);
      bytes += key.length + (v?.length ?? 0) + 64;
    });
  } while (cursor !== '0' && bytes < MAX_REPLY_BYTES);
  return { v: 1, cursor, records: out };
}
