// Replication events and their wire form. Writes made in the same tick travel
// as one batch (one transport message), so a burst costs one publish, not one
// per key. Everything from the wire is checked here before it can reach Redis.
import { MeridianError } from '../errors.js';
import { HLC_PATTERN } from './hlc.js';

/** set: copy the value; del: delete; inv: invalidate (delete, from a keyspace in invalidate mode). */
export type EventOp = 'set' | 'del' | 'inv';

export interface ReplicationEvent {
  op: EventOp;
  /** The cache key, without the Redis key prefix (each region applies its own). */
  key: string;
  value?: string;
  /** Absolute expiry (ms since epoch) of a set with a TTL; absent means no expiry. */
  expireAt?: number;
  /** Hybrid logical clock stamp from the source region: last writer wins by it. */
  hlc: string;
  /** Wall-clock ms at the source when the write was made, for lag. */
  at: number;
}

export interface EventBatch {
  origin: string;
  events: ReplicationEvent[];
}

export const MAX_KEY_LENGTH = 1024;
/** Characters of a value; its JSON form must also fit in MAX_EVENT_BYTES. */
export const MAX_VALUE_LENGTH = 512 * 1024;
/** One encoded event at most; a NATS message (default max_payload 1 MiB) holds a batch of them. */
export const MAX_EVENT_BYTES = 600 * 1024;
/**
 * The joined events of one transport message, and of one outbox entry, at
 * most: below NATS's default max_payload (1 MiB), with room for the envelope.
 */
export const MAX_BATCH_BYTES = 900 * 1024;
const OPS: ReadonlySet<string> = new Set(['set', 'del', 'inv']);

export function encodeBatch(batch: EventBatch): Uint8Array {
  return joinEncodedEvents(batch.origin, batch.events.map(encodeEvent));
}

/** One event's JSON, so a batcher can count bytes as it goes. */
export function encodeEvent(e: ReplicationEvent): string {
  return JSON.stringify(toWire(e));
}

export function joinEncodedEvents(origin: string, encoded: readonly string[]): Uint8Array {
  return Buffer.from(`{"v":1,"o":${JSON.stringify(origin)},"e":[${encoded.join(',')}]}`);
}

const COMMA = Buffer.from(',');
const END = Buffer.from(']}');

/** joinEncodedEvents for events already in UTF-8 (the outbox's): the same bytes, nothing decoded. */
export function joinEncodedBuffers(origin: string, encoded: readonly Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [Buffer.from(`{"v":1,"o":${JSON.stringify(origin)},"e":[`)];
  for (const [i, e] of encoded.entries()) {
    if (i > 0) parts.push(COMMA);
    parts.push(e);
  }
  parts.push(END);
  return Buffer.concat(parts);
}

function toWire(e: ReplicationEvent) {
  return { op: e.op, k: e.key, val: e.value, exp: e.expireAt, h: e.hlc, at: e.at };
}

export interface DecodedBatch {
  origin: string;
  events: ReplicationEvent[];
  /** Human-readable reasons, one per event (or whole message) that was refused. */
  rejected: string[];
}

/**
 * Decodes a message from `expectedOrigin`'s stream. A message that is not a
 * batch at all throws MALFORMED_EVENT; inside a good batch, each bad event is
 * left out and its reason listed, so one bad event does not block the rest.
 */
export function decodeBatch(data: Uint8Array, expectedOrigin: string): DecodedBatch {
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    throw new MeridianError('MALFORMED_EVENT', 'replication message is not JSON');
  }
  if (!isObject(wire) || wire.v !== 1 || !Array.isArray(wire.e)) {
    throw new MeridianError('MALFORMED_EVENT', 'replication message is not a version 1 batch');
  }
  if (wire.o !== expectedOrigin) {
    throw new MeridianError(
      'MALFORMED_EVENT',
      `replication message claims origin ${String(wire.o)} on the stream of ${expectedOrigin}`,
    );
  }
  const events: ReplicationEvent[] = [];
  const rejected: string[] = [];
  for (const raw of wire.e) {
    const problem = checkEvent(raw, expectedOrigin);
    if (problem) rejected.push(problem);
    else events.push(fromWire(raw as WireEvent));
  }
  return { origin: expectedOrigin, events, rejected };
}

interface WireEvent {
  op: EventOp;
  k: string;
  val?: string;
  exp?: number;
  h: string;
  at: number;
}

function fromWire(w: WireEvent): ReplicationEvent {
  const e: ReplicationEvent = { op: w.op, key: w.k, hlc: w.h, at: w.at };
  if (w.op === 'set') {
    e.value = w.val;
    if (w.exp !== undefined) e.expireAt = w.exp;
  }
  return e;
}

/** The reason an event is refused, or null when it is good. */
export function checkEvent(raw: unknown, origin: string): string | null {
  if (!isObject(raw)) return 'event is not an object';
  if (typeof raw.op !== 'string' || !OPS.has(raw.op)) return `unknown op ${JSON.stringify(raw.op)}`;
  if (typeof raw.k !== 'string' || raw.k.length === 0 || raw.k.length > MAX_KEY_LENGTH) {
    return `key must be a string of 1-${MAX_KEY_LENGTH} characters`;
  }
  if (typeof raw.h !== 'string') return 'hlc missing';
  const m = HLC_PATTERN.exec(raw.h);
  if (!m) return `hlc ${JSON.stringify(raw.h).slice(0, 80)} is not a stamp`;
  if (m[3] !== origin) return `hlc origin ${m[3]} is not the stream's region ${origin}`;
  if (typeof raw.at !== 'number' || !Number.isFinite(raw.at) || raw.at < 0) return 'at must be a time in ms';
  if (raw.op === 'set') {
    if (typeof raw.val !== 'string' || raw.val.length > MAX_VALUE_LENGTH) return 'set needs a string value';
    if (
      raw.exp !== undefined &&
      (typeof raw.exp !== 'number' || !Number.isSafeInteger(raw.exp) || raw.exp <= 0)
    ) {
      return 'exp must be a positive time in ms';
    }
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
