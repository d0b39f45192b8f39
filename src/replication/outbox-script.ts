// The transactional outbox's write: one script applies local writes (the
// compare rules of APPLY_LUA) and appends the events other regions will get
// to the outbox stream, so a write is in Redis with its outgoing event or not
// at all. The shipper (shipper.ts) publishes the stream and trims what
// JetStream acknowledged.
//
// Outbox entries: one per script call, not one per event: field `b` = the
// encoded events joined by ',' (as joinEncodedEvents joins them for the
// wire), then `n` = how many, cut so an entry stays under ARGV[3] bytes and
// always fits one transport message. `b` comes first: a shipper of the
// previous format takes an entry's first value as one encoded event, and
// joined events are valid there too (a rolling upgrade may update writers first). An XADD per event cost Redis and the
// shipper's XRANGE more than the rest of the write. Entries of the previous
// format (field `e` = one encoded event) are still read: an upgrade finds a
// non-empty outbox. The event count lives beside the stream (`__outbox_events`,
// kept by this script and TRIM_LUA) so `maxLength` still counts events.
//
// KEYS[1] = the outbox stream, KEYS[2] = its event count, KEYS[2 + i] = key of
// event i; ARGV[1] = tombstone ms, ARGV[2] = the outbox's maximum length in
// events, ARGV[3] = an entry's maximum bytes; then five ARGV per event: stamp,
// op, value, expireAt ms (0 = none), the encoded outgoing event.
// Returns two entries per event, as APPLY_LUA, plus -3: refused, the outbox is
// full (nothing written). Only an applied event enters the outbox.
import { COMPARE_LUA } from './apply-script.js';

// The count key is missing before the first write of this format: every
// entry then is an old one-event entry, so XLEN is the count.
const EVENT_COUNT_LUA = `
local function eventCount(outbox, counter)
  return tonumber(redis.call('GET', counter)) or redis.call('XLEN', outbox)
end
`;

export const WRITE_LUA = `${COMPARE_LUA}${EVENT_COUNT_LUA}
local outbox, counter = KEYS[1], KEYS[2]
local tombstone, maxLength, maxBytes = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local length = eventCount(outbox, counter)
local before = length
local entry, bytes = {}, 0
local function append()
  if #entry == 0 then return end
  redis.call('XADD', outbox, '*', 'b', table.concat(entry, ','), 'n', #entry)
  entry, bytes = {}, 0
end
local out = {}
for i = 3, #KEYS do
  local key = KEYS[i]
  local base = 3 + (i - 3) * 5
  local stamp, op, value, exp = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], tonumber(ARGV[base + 4])
  local code, cur = check(key, stamp)
  if code == 1 and length >= maxLength then code = -3 end
  if code == 1 then
    store(key, cur, stamp, op, value, exp, tombstone)
    local encoded = ARGV[base + 5]
    if bytes + #encoded + 1 > maxBytes then append() end
    entry[#entry + 1] = encoded
    bytes = bytes + #encoded + 1
    length = length + 1
  end
  out[#out + 1] = code; out[#out + 1] = cur
end
append()
if length ~= before then redis.call('SET', counter, length) end
return out
`;

// Trims the entries up to ARGV[1] (inclusive; ARGV[2] is the id just after it)
// and takes their events off the count. Idempotent: entries trimmed already
// are not counted again. An empty outbox sets the count to 0: a writer of the
// previous format (during an upgrade) adds entries without counting them.
export const TRIM_LUA = `
local outbox, counter = KEYS[1], KEYS[2]
local gone = redis.call('XRANGE', outbox, '-', ARGV[1])
if #gone == 0 then return 0 end
local events = 0
for _, entry in ipairs(gone) do
  local fields, n = entry[2], 1
  for j = 1, #fields, 2 do
    if fields[j] == 'n' then n = tonumber(fields[j + 1]) end
  end
  events = events + n
end
redis.call('XTRIM', outbox, 'MINID', ARGV[2])
local count = tonumber(redis.call('GET', counter))
if redis.call('XLEN', outbox) == 0 then count = count and 0
elseif count then count = math.max(0, count - events) end
if count then redis.call('SET', counter, count) end
return events
`;

/** Events in the outbox: the count, or XLEN while only old one-event entries exist. */
export const DEPTH_LUA = `${EVENT_COUNT_LUA}
return eventCount(KEYS[1], KEYS[2])
`;

/** The outbox stream of a cache whose keys start with keyPrefix. */
export const outboxKey = (keyPrefix: string) => `${keyPrefix}__outbox`;
/** How many events the outbox holds (its entries hold several). */
export const outboxCountKey = (keyPrefix: string) => `${keyPrefix}__outbox_events`;
/** The shipper's lease: one shipper per region at a time. */
export const shipperLeaseKey = (keyPrefix: string) => `${keyPrefix}__shipper`;

/** The id just after a stream id (XTRIM MINID keeps ids >= it). */
export function nextStreamId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}

/**
 * An outbox entry's fields as XRANGE returns them (as Buffers: the shipper
 * passes the events on in UTF-8, never decoding them): its events joined by
 * ',', and how many.
 */
export function entryEvents(fields: readonly Buffer[]): { encoded: Buffer; events: number } {
  let encoded: Buffer = EMPTY;
  let events = 1;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i].toString();
    // 'e': the previous format, one event per entry.
    if (name === 'b' || name === 'e') encoded = fields[i + 1];
    else if (name === 'n') events = Number(fields[i + 1].toString());
  }
  return { encoded, events };
}

const EMPTY = Buffer.alloc(0);
