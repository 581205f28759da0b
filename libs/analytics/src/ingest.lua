-- Count events of one name, each event id once, atomically: the ids are marked
-- seen and the aggregates change together or not at all, so neither a crash nor a retry
-- can count an event twice or lose it.
--
-- KEYS[1]     the event name's base, e.g. "errand:analytics:{signup}:"; every key written
--             here starts with it, so all share its hash tag (one Redis Cluster slot)
-- ARGV[1]     now, epoch seconds
-- ARGV[2]     length of one dedupe generation, seconds (half the dedupe window)
-- ARGV[3..5]  how long minute, hour and day buckets are kept after they end, seconds
-- ARGV[6]     the events as JSON, each [id, user ('' for none), timestamp (epoch seconds),
--             [property, value, property, value, ...]] with the properties whose top values
--             are kept (one argument, decoded in C, costs less than a few per event)
-- Returns one character per event, in order: '1' counted, '0' a duplicate.
local base = KEYS[1]
local now = tonumber(ARGV[1])
local genLen = tonumber(ARGV[2])
local names = { 'minute', 'hour', 'day' }
local sizes = { 60, 3600, 86400 }
local keep = { tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]) }

-- 1. read the events
local events = cjson.decode(ARGV[6])
local ids = {}
for k, e in ipairs(events) do ids[k] = e[1] end

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
local fresh, freshIds, flags = {}, {}, {}
for k, e in ipairs(events) do
  local id = e[1]
  if seen[id] then
    flags[k] = '0'
  else
    seen[id] = true
    fresh[#fresh + 1] = e
    freshIds[#freshIds + 1] = id
    flags[k] = '1'
  end
end
if #fresh == 0 then return table.concat(flags) end
local seenKey = base .. 'seen:' .. gen
redis.call('SADD', seenKey, unpack(freshIds))
redis.call('EXPIREAT', seenKey, (gen + 3) * genLen, 'NX')

-- 3. add up per bucket, in Lua tables (most events of a batch share their buckets); a
-- bucket already past its retention is skipped
local buckets = { {}, {}, {} }
local order = {}
for _, e in ipairs(fresh) do
  local user, ts, props = e[2], e[3], e[4]
  for g = 1, 3 do
    local start = ts - ts % sizes[g]
    local b = buckets[g][start]
    if b == nil then
      local expireAt = start + sizes[g] + keep[g]
      b = expireAt > now and { suffix = names[g] .. ':' .. start, at = expireAt, n = 0, users = {}, userList = {}, tops = {} }
      buckets[g][start] = b
      if b then order[#order + 1] = b end
    end
    if b then
      b.n = b.n + 1
      if user ~= '' and not b.users[user] then
        b.users[user] = true
        b.userList[#b.userList + 1] = user
      end
      for p = 1, #props, 2 do
        local property, value = props[p], props[p + 1]
        local values = b.tops[property]
        if not values then
          values = {}
          b.tops[property] = values
        end
        values[value] = (values[value] or 0) + 1
      end
    end
  end
end

-- 4. write each key once; a key gets its expiry when it is made (an existing key has its
-- own already, and the same one: it follows from the bucket). A write that made nothing new
-- cannot have made the key, so most writes need no EXPIREAT at all.
for _, b in ipairs(order) do
  local key = base .. 'count:' .. b.suffix
  if redis.call('INCRBY', key, b.n) == b.n then redis.call('EXPIREAT', key, b.at) end
  if #b.userList > 0 then
    key = base .. 'users:' .. b.suffix
    if redis.call('PFADD', key, unpack(b.userList)) == 1 then redis.call('EXPIREAT', key, b.at, 'NX') end
  end
  for property, values in pairs(b.tops) do
    key = base .. 'top:' .. property .. ':' .. b.suffix
    local added = false
    for value, n in pairs(values) do
      if tonumber(redis.call('ZINCRBY', key, n, value)) == n then added = true end
    end
    if added then redis.call('EXPIREAT', key, b.at, 'NX') end
  end
end
return table.concat(flags)
