-- Admit a holder under one key's concurrency and rate limits, or say why not and for how
-- long. Every check comes before any write, so a refusal by either limit leaves no trace in
-- the other. Time is Redis's (TIME), the same for every worker process whatever its clock.
--
-- KEYS[1]  holders: zset holder → lease expiry (ms)
-- KEYS[2]  rate: zset admission → its time (ms), the admissions of the last window
-- ARGV[1]  holder
-- ARGV[2]  lease length, ms
-- ARGV[3]  concurrency: holders at once (0: no limit)
-- ARGV[4]  rate: admissions per window (0: no limit)
-- ARGV[5]  the window, ms
-- Returns {1, 0, ''} admitted, or {0, retry in ms, 'concurrency' | 'rate'}.
local holders, rate = KEYS[1], KEYS[2]
local holder = ARGV[1]
local leaseMs = tonumber(ARGV[2])
local concurrency = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
local windowMs = tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- a lease runs while now < expiry: a holder that died is dropped here
redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)

-- 1. hold (or go on holding) a lease; the key lives as long as its longest lease
local function hold()
  redis.call('ZADD', holders, now + leaseMs, holder)
  local last = redis.call('ZRANGE', holders, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', holders, tonumber(last[2]) - now)
  return { 1, 0, '' }
end

-- 2. the same holder again: the lease it has, renewed; neither limit counts it twice
if redis.call('ZSCORE', holders, holder) then return hold() end

-- 3. the checks: when both refuse, the retry is the later of the two
local retry, reason = 0, ''
if concurrency > 0 then
  local held = redis.call('ZCARD', holders)
  if held >= concurrency then
    -- the slot that frees itself first if no one releases: the earliest expiry among the
    -- leases past the limit (a lower limit than before leaves more leases than slots)
    local nth = redis.call('ZRANGE', holders, held - concurrency, held - concurrency, 'WITHSCORES')
    retry, reason = tonumber(nth[2]) - now, 'concurrency'
  end
end
if count > 0 then
  redis.call('ZREMRANGEBYSCORE', rate, '-inf', now - windowMs)
  local taken = redis.call('ZCARD', rate)
  if taken >= count then
    local nth = redis.call('ZRANGE', rate, taken - count, taken - count, 'WITHSCORES')
    retry = math.max(retry, math.ceil(tonumber(nth[2]) + windowMs - now))
    if reason == '' then reason = 'rate' end
  end
end
if reason ~= '' then return { 0, math.max(retry, 1), reason } end

-- 4. admitted: counted in the window (one member per admission), then the lease
if count > 0 then
  redis.call('ZADD', rate, now, time[1] .. '.' .. time[2] .. ':' .. holder)
  redis.call('PEXPIRE', rate, math.ceil(windowMs))
end
return hold()
