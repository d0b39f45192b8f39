// The compare-and-apply step, atomic inside Redis: an event is applied only
// when its stamp is newer than the one stored with the key, so replays,
// duplicates and out-of-order delivery all end in the same state.
//
// A key is a hash: `h` = stamp of the last write, `v` = value. A delete (or an
// invalidation, or a set that has already expired) leaves a tombstone: the
// hash with only `h`, expiring after the tombstone TTL.
//
// Applies a batch of events in one call (one round trip, one script run):
// KEYS[i] = key of event i; ARGV[1] = tombstone ms; then four ARGV per event:
// stamp, op ('set'|'del'|'inv'), value, expireAt ms (0 = none).
// Returns two entries per event: 1 applied (and the stamp it replaced or ''),
// 0 already applied (its stamp), -1 refused: the stored write is newer (its stamp),
// -2 refused: the key holds something else than the cache's hash.
/** The compare rules, shared with the outbox's write script (outbox-script.ts). */
export const COMPARE_LUA = `
local function newer(a, b)
  local wa, wb = tonumber(string.sub(a, 1, 15)), tonumber(string.sub(b, 1, 15))
  if wa ~= wb then return wa > wb end
  local ca, cb = tonumber(string.sub(a, 17, 21)), tonumber(string.sub(b, 17, 21))
  if ca ~= cb then return ca > cb end
  -- Byte order for the origin: Lua's < on strings follows the server locale.
  local oa, ob = string.sub(a, 23), string.sub(b, 23)
  local n = math.min(#oa, #ob)
  for i = 1, n do
    local x, y = string.byte(oa, i), string.byte(ob, i)
    if x ~= y then return x > y end
  end
  return #oa > #ob
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- The outcome of applying one event: code (1, 0, -1, -2 as above) and a stamp.
local function check(key, stamp)
  local cur = redis.pcall('HGET', key, 'h')
  if type(cur) == 'table' and cur.err then return -2, '' end
  if cur and cur == stamp then return 0, cur end
  if cur and not newer(stamp, cur) then return -1, cur end
  return 1, cur or ''
end
local function store(key, cur, stamp, op, value, exp, tombstone)
  if cur ~= '' then redis.call('DEL', key) end
  if op ~= 'set' or (exp > 0 and exp <= now) then
    redis.call('HSET', key, 'h', stamp)
    redis.call('PEXPIRE', key, tombstone)
  else
    redis.call('HSET', key, 'h', stamp, 'v', value)
    if exp > 0 then redis.call('PEXPIREAT', key, exp) end
  end
end
`;

export const APPLY_LUA = `${COMPARE_LUA}
local tombstone = ARGV[1]
local out = {}
for i, key in ipairs(KEYS) do
  local base = 1 + (i - 1) * 4
  local stamp, op, value, exp = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], tonumber(ARGV[base + 4])
  local code, cur = check(key, stamp)
  if code == 1 then store(key, cur, stamp, op, value, exp, tombstone) end
  out[#out + 1] = code; out[#out + 1] = cur
end
return out
`;
