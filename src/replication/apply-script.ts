// The compare-and-apply step, atomic inside Redis: an event is applied only
// when its stamp is newer than the one stored with the key, so replays,
// duplicates and out-of-order delivery all end in the same state.
//
// A key is a hash: `h` = stamp of the last write, `v` = value. A delete (or an
// invalidation, or a set that has already expired) leaves a tombstone: the
// hash with only `h`, expiring after the tombstone TTL.
//
// KEYS[1] = key; ARGV = stamp, op ('set'|'del'|'inv'), value, expireAt ms (0 = none), tombstone ms.
// Returns {1, previous stamp or ''} applied, {0, stamp} already applied,
// {-1, stored stamp} refused because the stored write is newer.
export const APPLY_LUA = `
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
local cur = redis.call('HGET', KEYS[1], 'h')
if cur then
  if cur == ARGV[1] then return {0, cur} end
  if not newer(ARGV[1], cur) then return {-1, cur} end
end
local exp = tonumber(ARGV[4])
local tomb = ARGV[2] ~= 'set'
if not tomb and exp > 0 then
  local t = redis.call('TIME')
  if exp <= tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) then tomb = true end
end
redis.call('DEL', KEYS[1])
if tomb then
  redis.call('HSET', KEYS[1], 'h', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
else
  redis.call('HSET', KEYS[1], 'h', ARGV[1], 'v', ARGV[3])
  if exp > 0 then redis.call('PEXPIREAT', KEYS[1], exp) end
end
return {1, cur or ''}
`;
