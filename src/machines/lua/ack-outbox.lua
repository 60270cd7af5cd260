--[[
  Removes dispatched effects from a call's outbox and reports how many remain.

  Input:
    KEYS[1] outbox hash
    ARGV[1..] effect ids ("<version>.<index>")

  Output:
    the number of effects still waiting in the outbox
]]
if #ARGV > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV)) end
return redis.call('HLEN', KEYS[1])
