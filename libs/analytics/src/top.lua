#!lua flags=no-writes
-- The most frequent values over several sorted sets (value → count) of one event name:
-- at most ARGV[1] of them, most frequent first, equal counts in alphabetical order.
-- KEYS: the sorted sets, one per bucket of the range (one hash tag, so one Cluster slot).
-- Read-only, so it still answers while Redis is at maxmemory.
-- Returns a flat list: value, count, value, count, ...
local limit = tonumber(ARGV[1])
-- ZUNION orders by count, then value, both ascending: walk it from the end, one run of
-- equal counts at a time, keeping each run in its ascending (alphabetical) order.
local args = { 'ZUNION', #KEYS }
for i, key in ipairs(KEYS) do args[i + 2] = key end
args[#args + 1] = 'WITHSCORES'
local union = redis.call(unpack(args))
local out = {}
local last = #union - 1
while last >= 1 and #out < 2 * limit do
  local first = last
  while first > 2 and union[first - 1] == union[last + 1] do first = first - 2 end
  for k = first, last, 2 do
    if #out < 2 * limit then
      out[#out + 1] = union[k]
      out[#out + 1] = union[k + 1]
    end
  end
  last = first - 2
end
return out
