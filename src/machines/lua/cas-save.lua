--[[
  Compare-and-set write of a call actor's snapshot together with the effects its transition asked for (the outbox)
  and one timeline entry. All keys share the call's {callId} hash tag, so this stays in one Redis Cluster slot.
  The writer does not read the call first: it sends the version its snapshot came from, and on a conflict the reply
  carries the stored snapshot, so the retry needs no extra round trip. Effects the writer dispatched since its last
  write are acknowledged here too (removed from the outbox whatever the version check says: they went out).

  Input:
    KEYS[1] call hash        (fields: snapshot, version, state, createdAt, updatedAt)
    KEYS[2] outbox hash      (field "<version>.<index>" → effect JSON)
    KEYS[3] timeline list
    KEYS[4] sdp hash         (field offer, written on create only)
    KEYS[5] graph hash       (expiry only)
    KEYS[6] stats list       (expiry only)

    ARGV[1] expected version: 0 creates the call, N>0 requires the stored version to be N
    ARGV[2] snapshot JSON
    ARGV[3] state name
    ARGV[4] now (ms)
    ARGV[5] timeline entry JSON ("" for none)
    ARGV[6] timeline max length
    ARGV[7] expiry in ms applied to every key of the call (0: none; set once the call has ended)
    ARGV[8] offer SDP ("" for none; only on create)
    ARGV[9] acknowledged effect count A
    ARGV[10 .. 9+A] acknowledged effect ids
    ARGV[10+A] effect count N
    ARGV[11+A .. 10+A+N] effect JSON

  Output:
    {version}                      success: the new version (> 0)
    {-1, version, snapshot JSON}   version conflict: someone wrote first; what is stored now
    {-2}                           the call does not exist (expected version > 0)
    {-3}                           the call already exists (expected version 0)
]]
local acks = tonumber(ARGV[9])
if acks > 0 then redis.call('HDEL', KEYS[2], unpack(ARGV, 10, 9 + acks)) end

local expected = tonumber(ARGV[1])
local current = redis.call('HGET', KEYS[1], 'version')

if expected == 0 then
  if current then return {-3} end
else
  if not current then return {-2} end
  if tonumber(current) ~= expected then
    return {-1, tonumber(current), redis.call('HGET', KEYS[1], 'snapshot')}
  end
end

local version = expected + 1
local now = ARGV[4]
if expected == 0 then
  redis.call('HSET', KEYS[1], 'createdAt', now)
  if ARGV[8] ~= '' then redis.call('HSET', KEYS[4], 'offer', ARGV[8]) end
end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[2], 'version', version, 'state', ARGV[3], 'updatedAt', now)

local first = 10 + acks
local n = tonumber(ARGV[first])
for i = 1, n do
  redis.call('HSET', KEYS[2], version .. '.' .. i, ARGV[first + i])
end

if ARGV[5] ~= '' then
  redis.call('RPUSH', KEYS[3], ARGV[5])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[6]), -1)
end

local ttl = tonumber(ARGV[7])
if ttl > 0 then
  for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
return {version}
