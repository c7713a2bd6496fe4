// The Lua scripts behind `RedisCounters`. Each public counters operation is exactly one of these,
// run with EVALSHA (ioredis `defineCommand` caches the script per connection and falls back to
// EVAL on NOSCRIPT), so every check-and-change is atomic across all the keys it touches and costs
// one round trip. Every key a script touches is passed in KEYS (never built inside the script), so
// the scripts are valid on Redis Cluster when all keys share a hash tag (see docs/redis.md).
//
// Numbers: money is integer nano-dollars; Lua numbers are doubles, exact for integers below 2^53
// (~$9M per counter at 1e9 units per USD), and values written back are formatted with %d so Redis
// never sees an exponent. Window sums may be fractional (adjustments), so they are formatted %.17g,
// and the window scripts return their numbers as strings (a Lua number reply would be truncated).

const COMMON = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(n) return string.format('%d', n) end
local function num(n) return string.format('%.17g', n) end
`;

const BUDGET_COMMON = `${COMMON}
-- Drops a line's holds whose expiry is <= now from its reserved sum (a crashed replica's holds).
local function sweep(counter, holds, expiries, now)
  while true do
    local ids = redis.call('ZRANGEBYSCORE', expiries, '-inf', now, 'LIMIT', 0, 256)
    if #ids == 0 then return end
    local amounts = redis.call('HMGET', holds, unpack(ids))
    local total = 0
    for i = 1, #amounts do
      if amounts[i] then total = total + tonumber(amounts[i]) end
    end
    if total ~= 0 then redis.call('HINCRBY', counter, 'reserved', int(-total)) end
    redis.call('HDEL', holds, unpack(ids))
    redis.call('ZREM', expiries, unpack(ids))
    if #ids < 256 then return end
  end
end
-- Counters of periodic budgets expire this long after their last write (longer than any period).
local function keep(counter, holds, expiries, periodic, ttl)
  if periodic ~= '1' then return end
  redis.call('PEXPIRE', counter, ttl)
  redis.call('PEXPIRE', holds, ttl)
  redis.call('PEXPIRE', expiries, ttl)
end
local function unhold(counter, holds, expiries, id)
  local held = redis.call('HGET', holds, id)
  if not held then return 0 end
  redis.call('HINCRBY', counter, 'reserved', int(-tonumber(held)))
  redis.call('HDEL', holds, id)
  redis.call('ZREM', expiries, id)
  return tonumber(held)
end
`;

/**
 * KEYS: request, done, then per line: counter, holds, expiries.
 * ARGV: requestId, amount, now ('' = Redis TIME), ttlMs, requestGcMs, periodTtlMs, then per line:
 * limit, hard (1|0), periodic (1|0).
 * Returns {'ok'} | {'duplicate'} | {'refused', lineIndex, spent, reserved}.
 */
export const RESERVE = `${BUDGET_COMMON}
local id, amountArg = ARGV[1], ARGV[2]
local amount = tonumber(amountArg)
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return {'duplicate'} end
local now = clock(ARGV[3])
local n = (#KEYS - 2) / 3
for i = 1, n do sweep(KEYS[3 * i], KEYS[3 * i + 1], KEYS[3 * i + 2], now) end
if amount > 0 then
  for i = 1, n do
    local a = 4 + 3 * i
    if ARGV[a + 1] == '1' then
      local c = redis.call('HMGET', KEYS[3 * i], 'spent', 'reserved')
      local spent, reserved = tonumber(c[1]) or 0, tonumber(c[2]) or 0
      if spent + reserved + amount > tonumber(ARGV[a]) then return {'refused', i, spent, reserved} end
    end
  end
end
local expires = int(now + tonumber(ARGV[4]))
for i = 1, n do
  local k, a = 3 * i, 4 + 3 * i
  redis.call('HINCRBY', KEYS[k], 'reserved', amountArg)
  if amount > 0 then
    redis.call('HSET', KEYS[k + 1], id, amountArg)
    redis.call('ZADD', KEYS[k + 2], expires, id)
  end
  keep(KEYS[k], KEYS[k + 1], KEYS[k + 2], ARGV[a + 2], ARGV[6])
end
redis.call('HSET', KEYS[1], 'amount', amountArg, 'expires', expires)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'ok'}
`;

/**
 * KEYS: request, done, then per line: counter, holds, expiries.
 * ARGV: as RESERVE. The growth over each line's live hold is checked; a shrink always passes.
 * Returns {'ok'} | {'finished'} | {'refused', lineIndex, spent, reserved}.
 */
export const RESIZE = `${BUDGET_COMMON}
local id, amountArg = ARGV[1], ARGV[2]
local amount = tonumber(amountArg)
if redis.call('EXISTS', KEYS[2]) == 1 then return {'finished'} end
local now = clock(ARGV[3])
local n = (#KEYS - 2) / 3
local previous = {}
for i = 1, n do
  sweep(KEYS[3 * i], KEYS[3 * i + 1], KEYS[3 * i + 2], now)
  previous[i] = tonumber(redis.call('HGET', KEYS[3 * i + 1], id)) or 0
end
for i = 1, n do
  local a = 4 + 3 * i
  if ARGV[a + 1] == '1' and amount > previous[i] then
    local c = redis.call('HMGET', KEYS[3 * i], 'spent', 'reserved')
    local spent, reserved = tonumber(c[1]) or 0, tonumber(c[2]) or 0
    if spent + reserved - previous[i] + amount > tonumber(ARGV[a]) then return {'refused', i, spent, reserved} end
  end
end
local expires = int(now + tonumber(ARGV[4]))
for i = 1, n do
  local k, a = 3 * i, 4 + 3 * i
  redis.call('HINCRBY', KEYS[k], 'reserved', int(amount - previous[i]))
  if amount > 0 then
    redis.call('HSET', KEYS[k + 1], id, amountArg)
    redis.call('ZADD', KEYS[k + 2], expires, id)
  else
    redis.call('HDEL', KEYS[k + 1], id)
    redis.call('ZREM', KEYS[k + 2], id)
  end
  keep(KEYS[k], KEYS[k + 1], KEYS[k + 2], ARGV[a + 2], ARGV[6])
end
redis.call('HSET', KEYS[1], 'amount', amountArg, 'expires', expires)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'ok'}
`;

/**
 * KEYS: request, done, then per line: counter, holds, expiries.
 * ARGV: requestId, actual, doneTtlMs, periodTtlMs, then per line: periodic (1|0).
 * Returns {applied (1|0), spent of each line after the settle...}.
 */
export const SETTLE = `${BUDGET_COMMON}
local id, actual = ARGV[1], ARGV[2]
local n = (#KEYS - 2) / 3
local out = {0}
if redis.call('EXISTS', KEYS[2]) == 1 then
  for i = 1, n do out[i + 1] = tonumber(redis.call('HGET', KEYS[3 * i], 'spent')) or 0 end
  return out
end
out[1] = 1
for i = 1, n do
  local k = 3 * i
  unhold(KEYS[k], KEYS[k + 1], KEYS[k + 2], id)
  out[i + 1] = redis.call('HINCRBY', KEYS[k], 'spent', actual)
  keep(KEYS[k], KEYS[k + 1], KEYS[k + 2], ARGV[4 + i], ARGV[4])
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return out
`;

/**
 * KEYS: request, done, then per line: counter, holds, expiries.
 * ARGV: requestId, doneTtlMs. Returns 1.
 */
export const RELEASE = `${BUDGET_COMMON}
local id = ARGV[1]
local n = (#KEYS - 2) / 3
for i = 1, n do unhold(KEYS[3 * i], KEYS[3 * i + 1], KEYS[3 * i + 2], id) end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 1
`;

/** KEYS: counter, holds, expiries. ARGV: now ('' = Redis TIME). Returns {spent, reserved}. */
export const SPENT = `${BUDGET_COMMON}
sweep(KEYS[1], KEYS[2], KEYS[3], clock(ARGV[1]))
local c = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return {tonumber(c[1]) or 0, tonumber(c[2]) or 0}
`;

/** KEYS: counter. ARGV: spent, periodic (1|0), periodTtlMs. Set-if-absent; returns 1 if seeded. */
export const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'reserved', '0')
if ARGV[2] == '1' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`;

const WINDOW_COMMON = `${COMMON}
-- A window is a sorted set of tick ends (member and score: the tick's end, ms; a tick is a thousandth
-- of the window, src/governance/sliding-log.ts) and a hash: the window's 'sum' and each tick's cost
-- under the tick's end. So a busy window holds at most ~1,000 members whatever its rate.
local function total(meta) return tonumber(redis.call('HGET', meta, 'sum')) or 0 end
-- Ticks at or before the cutoff leave the window (a tick ending at t counts for now < t + window).
local function evict(log, meta, cutoff)
  local gone = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
  if #gone == 0 then return end
  local costs = redis.call('HMGET', meta, unpack(gone))
  local freed = 0
  for i = 1, #costs do freed = freed + (tonumber(costs[i]) or 0) end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
  -- An emptied window is forgotten, and restarts from an exact 0 (no dust from fractional adjustments).
  if redis.call('EXISTS', log) == 0 then
    redis.call('DEL', meta)
  else
    redis.call('HDEL', meta, unpack(gone))
    redis.call('HSET', meta, 'sum', num(total(meta) - freed))
  end
end
local function add(log, meta, tickEnd, costArg, keepMs)
  redis.call('ZADD', log, tickEnd, tickEnd)
  redis.call('HINCRBYFLOAT', meta, tickEnd, costArg)
  redis.call('HSET', meta, 'sum', num(total(meta) + tonumber(costArg)))
  redis.call('PEXPIRE', log, keepMs)
  redis.call('PEXPIRE', meta, keepMs)
end
`;

/**
 * KEYS: per check: log, meta. ARGV: now, keepMarginMs, then per check: limit, windowMs, cost, the
 * end of now's tick. Returns {1, remaining, resetMs, ... per check} | {0, checkIndex, remaining,
 * retryAfterMs, remaining, resetMs, ... per check}; numbers as strings.
 */
export const HIT = `${WINDOW_COMMON}
local now = tonumber(ARGV[1])
local n = #KEYS / 2
local function limitOf(i) return tonumber(ARGV[4 * i - 1]) end
local function windowOf(i) return tonumber(ARGV[4 * i]) end
local function costArg(i) return ARGV[4 * i + 1] end
local function tickOf(i) return ARGV[4 * i + 2] end
local function waitFor(log, meta, need, window)
  local freed, start = 0, 0
  while true do
    local page = redis.call('ZRANGE', log, start, start + 511)
    if #page == 0 then return window end
    local costs = redis.call('HMGET', meta, unpack(page))
    for j = 1, #page do
      freed = freed + (tonumber(costs[j]) or 0)
      if freed >= need then return math.max(0, tonumber(page[j]) + window - now) end
    end
    start = start + 512
  end
end
local function states(out)
  for i = 1, n do
    local log = KEYS[2 * i - 1]
    local reset = 0
    local last = redis.call('ZRANGE', log, -1, -1)
    if #last > 0 then reset = math.max(0, tonumber(last[1]) + windowOf(i) - now) end
    out[#out + 1] = num(math.max(0, limitOf(i) - total(KEYS[2 * i])))
    out[#out + 1] = num(reset)
  end
  return out
end
for i = 1, n do evict(KEYS[2 * i - 1], KEYS[2 * i], now - windowOf(i)) end
-- The same key twice in one hit must see both costs.
local pending = {}
for i = 1, n do
  local log = KEYS[2 * i - 1]
  local limit, c = limitOf(i), tonumber(costArg(i))
  local sum = total(KEYS[2 * i])
  local before = pending[log] or 0
  if sum + before + c > limit then
    local retry = windowOf(i)
    if c <= limit then retry = waitFor(log, KEYS[2 * i], sum + before + c - limit, windowOf(i)) end
    return states({0, i, num(math.max(0, limit - sum)), num(retry)})
  end
  pending[log] = before + c
end
for i = 1, n do
  if tonumber(costArg(i)) ~= 0 then
    -- Kept a margin past the moment the tick leaves the window (long windows have ticks of minutes).
    add(KEYS[2 * i - 1], KEYS[2 * i], tickOf(i), costArg(i), windowOf(i) + tonumber(ARGV[2]) + math.max(0, tonumber(tickOf(i)) - now))
  end
end
return states({1})
`;

/** KEYS: log, meta. ARGV: the end of the original hit's tick, delta, keepMs. A correction of that tick's cost. */
export const ADJUST = `${WINDOW_COMMON}
add(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
return 1
`;

/** KEYS: log, meta. ARGV: now, windowMs. Returns the window's sum as a string. */
export const USAGE = `${WINDOW_COMMON}
local now = tonumber(ARGV[1])
evict(KEYS[1], KEYS[2], now - tonumber(ARGV[2]))
return num(total(KEYS[2]))
`;

/**
 * KEYS: one lease set per slot. ARGV: now ('' = Redis TIME), leaseTtlMs, keepMs, member, then per
 * slot: max. Leases whose expiry is <= now no longer count. Returns {1} | {0, slotIndex}.
 */
export const ACQUIRE = `${COMMON}
local now = clock(ARGV[1])
local n = #KEYS
for i = 1, n do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now) end
for i = 1, n do
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[4 + i]) then return {0, i} end
end
local expires = int(now + tonumber(ARGV[2]))
for i = 1, n do
  redis.call('ZADD', KEYS[i], expires, ARGV[4] .. ':' .. i)
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
return {1}
`;

/**
 * KEYS: lease sets. ARGV: now ('' = Redis TIME), leaseTtlMs, keepMs, then per key: its members
 * separated by spaces. Extends only leases still live (an expired lease is never resurrected).
 * Returns how many leases were lost.
 */
export const RENEW = `${COMMON}
local now = clock(ARGV[1])
local expires = int(now + tonumber(ARGV[2]))
local lost = 0
for i = 1, #KEYS do
  local renewed = 0
  for member in string.gmatch(ARGV[3 + i], '%S+') do
    local score = redis.call('ZSCORE', KEYS[i], member)
    if score and tonumber(score) > now then
      redis.call('ZADD', KEYS[i], 'XX', expires, member)
      renewed = renewed + 1
    else
      lost = lost + 1
    end
  end
  if renewed > 0 then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return lost
`;

/** KEYS: lease sets. ARGV: one member per key. */
export const RELEASE_SLOTS = `
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[i]) end
return 1
`;

export const SCRIPTS = {
  switchyardReserve: RESERVE,
  switchyardResize: RESIZE,
  switchyardSettle: SETTLE,
  switchyardRelease: RELEASE,
  switchyardSpent: SPENT,
  switchyardSeed: SEED,
  switchyardHit: HIT,
  switchyardAdjust: ADJUST,
  switchyardUsage: USAGE,
  switchyardAcquire: ACQUIRE,
  switchyardRenew: RENEW,
  switchyardReleaseSlots: RELEASE_SLOTS,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
