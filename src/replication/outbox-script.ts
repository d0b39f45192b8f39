// The transactional outbox's write: one script applies a local write (the
// compare rules of APPLY_LUA) and appends the event other regions will get to
// the outbox stream, so a write is in Redis with its outgoing event or not at
// all. The shipper (shipper.ts) publishes the stream and trims what JetStream
// acknowledged.
//
// KEYS[1] = the outbox stream, KEYS[1 + i] = key of event i; ARGV[1] =
// tombstone ms, ARGV[2] = the outbox's maximum length; then five ARGV per
// event: stamp, op, value, expireAt ms (0 = none), the encoded outgoing event.
// Returns two entries per event, as APPLY_LUA, plus -3: refused, the outbox is
// full (nothing written). Only an applied event enters the outbox.
import { COMPARE_LUA } from './apply-script.js';

export const WRITE_LUA = `${COMPARE_LUA}
local outbox = KEYS[1]
local tombstone, maxLength = ARGV[1], tonumber(ARGV[2])
local length = redis.call('XLEN', outbox)
local out = {}
for i = 2, #KEYS do
  local key = KEYS[i]
  local base = 2 + (i - 2) * 5
  local stamp, op, value, exp = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], tonumber(ARGV[base + 4])
  local code, cur = check(key, stamp)
  if code == 1 and length >= maxLength then code = -3 end
  if code == 1 then
    store(key, cur, stamp, op, value, exp, tombstone)
    redis.call('XADD', outbox, '*', 'e', ARGV[base + 5])
    length = length + 1
  end
  out[#out + 1] = code; out[#out + 1] = cur
end
return out
`;

/** The outbox stream of a cache whose keys start with keyPrefix. */
export const outboxKey = (keyPrefix: string) => `${keyPrefix}__outbox`;
/** The shipper's lease: one shipper per region at a time. */
export const shipperLeaseKey = (keyPrefix: string) => `${keyPrefix}__shipper`;

/** The id just after a stream id (XTRIM MINID keeps ids >= it). */
export function nextStreamId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}
