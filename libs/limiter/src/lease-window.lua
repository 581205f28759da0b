-- Lease up to ARGV[1] admissions of the fixed window counted at KEYS[1], whose budget is
-- ARGV[2] per window of ARGV[3] ms. The window starts with its first lease and ends when the
-- key expires; the counter never passes the budget (a refused lease adds nothing).
-- Returns { granted, used (after this lease), ms left in the window }.
local wanted = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local granted = math.max(0, math.min(wanted, budget - used))
if granted > 0 then
  used = redis.call('INCRBY', KEYS[1], granted)
end
local left = redis.call('PTTL', KEYS[1])
if left < 0 and used > 0 then
  -- A new window (or a counter that somehow lost its expiry): it lasts ARGV[3] ms from now.
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  left = tonumber(ARGV[3])
elseif left < 0 then
  left = tonumber(ARGV[3])
end
return { granted, used, left }
