-- The leases of one key still running by Redis's clock (TIME), expired ones left out.
-- KEYS[1]  holders: zset holder → lease expiry (ms)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%d', now), '+inf')
