-- Count a batch of events of one name, each event id once, atomically: the ids are marked
-- seen and the aggregates change together or not at all, so neither a crash nor a retry
-- can count an event twice or lose it.
--
-- KEYS[1]     the event name's base, e.g. "errand:analytics:{signup}:"; every key written
--             here starts with it, so all share its hash tag (one Redis Cluster slot)
-- ARGV[1]     now, epoch seconds
-- ARGV[2]     length of one dedupe generation, seconds (half the dedupe window)
-- ARGV[3..5]  how long minute, hour and day buckets are kept after they end, seconds
-- ARGV[6..]   the events, each: id, user ('' for none), timestamp (epoch seconds), n, then
--             n pairs of (property, value) whose top values are kept
-- Returns { counted, duplicates }.
local base = KEYS[1]
local now = tonumber(ARGV[1])
local genLen = tonumber(ARGV[2])
local names = { 'minute', 'hour', 'day' }
local sizes = { 60, 3600, 86400 }
local keep = { tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]) }

-- 1. read the events
local events, ids = {}, {}
local i = 6
while i <= #ARGV do
  local n = tonumber(ARGV[i + 3])
  events[#events + 1] = { id = ARGV[i], user = ARGV[i + 1], ts = tonumber(ARGV[i + 2]), at = i + 4, n = n }
  ids[#ids + 1] = ARGV[i]
  i = i + 4 + 2 * n
end

-- 2. keep the ids seen in none of the last three generations, nor earlier in this batch;
-- an id is thus remembered for two to three generations: one to one and a half windows
local gen = math.floor(now / genLen)
local seen = {}
for back = 0, 2 do
  local flags = redis.call('SMISMEMBER', base .. 'seen:' .. (gen - back), unpack(ids))
  for k = 1, #ids do
    if flags[k] == 1 then seen[ids[k]] = true end
  end
end
local fresh, freshIds = {}, {}
for _, e in ipairs(events) do
  if not seen[e.id] then
    seen[e.id] = true
    fresh[#fresh + 1] = e
    freshIds[#freshIds + 1] = e.id
  end
end
if #fresh == 0 then return { 0, #events } end
local seenKey = base .. 'seen:' .. gen
redis.call('SADD', seenKey, unpack(freshIds))
redis.call('EXPIREAT', seenKey, (gen + 3) * genLen)

-- 3. add up per bucket; a bucket already past its retention is skipped
local counts, users, tops, expiry = {}, {}, {}, {}
for _, e in ipairs(fresh) do
  for g = 1, 3 do
    local start = e.ts - e.ts % sizes[g]
    local expireAt = start + sizes[g] + keep[g]
    if expireAt > now then
      local bucket = names[g] .. ':' .. start
      local key = base .. 'count:' .. bucket
      counts[key] = (counts[key] or 0) + 1
      expiry[key] = expireAt
      if e.user ~= '' then
        key = base .. 'users:' .. bucket
        users[key] = users[key] or {}
        table.insert(users[key], e.user)
        expiry[key] = expireAt
      end
      for p = 0, e.n - 1 do
        local value = ARGV[e.at + 2 * p + 1]
        key = base .. 'top:' .. ARGV[e.at + 2 * p] .. ':' .. bucket
        tops[key] = tops[key] or {}
        tops[key][value] = (tops[key][value] or 0) + 1
        expiry[key] = expireAt
      end
    end
  end
end

-- 4. write each key once, and give it its expiry
for key, n in pairs(counts) do redis.call('INCRBY', key, n) end
for key, list in pairs(users) do redis.call('PFADD', key, unpack(list)) end
for key, values in pairs(tops) do
  for value, n in pairs(values) do redis.call('ZINCRBY', key, n, value) end
end
for key, at in pairs(expiry) do redis.call('EXPIREAT', key, at) end
return { #fresh, #events - #fresh }
