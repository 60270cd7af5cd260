--[[
  Compare-and-set write of a call actor's snapshot together with the effects its transition asked for (the outbox)
  and one timeline entry. All keys share the call's {callId} hash tag, so this stays in one Redis Cluster slot.

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
    ARGV[9] effect count N
    ARGV[10 .. 9+N] effect JSON

  Output:
    the new version (> 0) on success
    -1 version conflict (someone wrote first: reload and try again)
    -2 the call does not exist (expected version > 0)
    -3 the call already exists (expected version 0)
]]
local expected = tonumber(ARGV[1])
local current = redis.call('HGET', KEYS[1], 'version')

if expected == 0 then
  if current then return -3 end
else
  if not current then return -2 end
  if tonumber(current) ~= expected then return -1 end
end

local version = expected + 1
local now = ARGV[4]
if expected == 0 then
  redis.call('HSET', KEYS[1], 'createdAt', now)
  if ARGV[8] ~= '' then redis.call('HSET', KEYS[4], 'offer', ARGV[8]) end
end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[2], 'version', version, 'state', ARGV[3], 'updatedAt', now)

local n = tonumber(ARGV[9])
for i = 1, n do
  redis.call('HSET', KEYS[2], version .. '.' .. i, ARGV[9 + i])
end

if ARGV[5] ~= '' then
  redis.call('RPUSH', KEYS[3], ARGV[5])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[6]), -1)
end

local ttl = tonumber(ARGV[7])
if ttl > 0 then
  for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
return version
