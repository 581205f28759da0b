-- Renew a live lease for another lease length, from now (Redis's TIME).
-- KEYS[1]  holders: zset holder → lease expiry (ms)
-- ARGV[1]  holder
-- ARGV[2]  lease length, ms
-- Returns 1 renewed, 0 when the lease had already expired or been released: its slot may be
-- another's by now, so the holder has to acquire again.
local holders, holder, leaseMs = KEYS[1], ARGV[1], tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
if not redis.call('ZSCORE', holders, holder) then return 0 end
redis.call('ZADD', holders, now + leaseMs, holder)
local last = redis.call('ZRANGE', holders, -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', holders, tonumber(last[2]) - now)
return 1
