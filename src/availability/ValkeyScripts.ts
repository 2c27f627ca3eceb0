/**
 * The Lua scripts of the Valkey availability store. Each write keeps the contract keys and the
 * auxiliary indexes in step atomically (a script runs alone on the server); each read answers
 * server-side and returns only what the caller needs. Run with EVALSHA, falling back to EVAL when
 * the server does not know the script (first use, or after a restart).
 *
 * Key layout shared by every script: KEYS[1..6] = online, deactivated, heartbeat index, free
 * index, max-sessions hash, meta hash (see MirrorKeys.ts). Per-mitra scripts add KEYS[7] = the
 * mitra's capacity key and KEYS[8] = its heartbeat key. Scripts that visit many mitras build the
 * per-mitra key names from the prefix (ARGV): on a Valkey Cluster, give the prefix a hash tag
 * (e.g. `{mitra}:`) so every key lives in one slot.
 *
 * Invariants (docs/availability.md):
 * - heartbeat index = { id ∈ online with a heartbeat key }, score = that time in epoch ms;
 * - free index = { id ∈ heartbeat index, id ∉ deactivated, capacity < max }, same score, where
 *   max = max-sessions[id] or meta.defaultMax. Available now = free members scored ≥ fresh-since.
 * - meta.seededAt is set by a seed; without it (an empty server after a restart) reads refuse
 *   with NOTSEEDED and callers fall back to Postgres until the reseed lands.
 */
import { createHash } from "node:crypto"
import type { Redis } from "ioredis"

const prelude = `
local ONLINE, DEACTIVATED, HB_INDEX, FREE_INDEX, MAX_SESSIONS, META = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]

-- ISO-8601 UTC as written by Date.prototype.toISOString → epoch milliseconds (nil if malformed).
local function isoToMs(iso)
  local y, mo, d, h, mi, s, frac = string.match(iso, '^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)%.?(%d*)Z$')
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  local ms = 0
  if frac ~= '' then ms = math.floor(tonumber(frac) * 10 ^ (3 - #frac)) end
  return ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60000 + tonumber(s) * 1000 + ms
end

local function notSeeded()
  return redis.error_reply('NOTSEEDED the availability mirror has not been seeded since Valkey started')
end

local function isSeeded()
  return redis.call('HEXISTS', META, 'seededAt') == 1
end

local function maxSessionsOf(id, default)
  return tonumber(redis.call('HGET', MAX_SESSIONS, id)) or default
end

local function defaultMax()
  return tonumber(redis.call('HGET', META, 'defaultMax')) or 1
end

-- The free index's rule for one mitra.
local function refreshFree(id, capacityKey)
  if redis.call('SISMEMBER', ONLINE, id) == 1 and redis.call('SISMEMBER', DEACTIVATED, id) == 0 then
    local score = redis.call('ZSCORE', HB_INDEX, id)
    if score then
      local live = tonumber(redis.call('GET', capacityKey)) or 0
      if live < maxSessionsOf(id, defaultMax()) then
        redis.call('ZADD', FREE_INDEX, score, id)
        return
      end
    end
  end
  redis.call('ZREM', FREE_INDEX, id)
end

local function setMaxSessions(id, max)
  if max == '' then redis.call('HDEL', MAX_SESSIONS, id) else redis.call('HSET', MAX_SESSIONS, id, max) end
end

-- ZADD in batches (a Lua call takes a bounded number of arguments).
local function batcher(key)
  local batch = {}
  local self = {}
  function self.add(score, member)
    batch[#batch + 1] = score
    batch[#batch + 1] = member
    if #batch >= 1000 then self.flush() end
  end
  function self.flush()
    if #batch > 0 then redis.call('ZADD', key, unpack(batch)) end
    batch = {}
  end
  return self
end
`

export interface LuaScript {
  readonly name: string
  readonly lua: string
  readonly sha: string
}

const script = (name: string, body: string): LuaScript => {
  const lua = `${prelude}\n${body}`
  return { name, lua, sha: createHash("sha1").update(lua).digest("hex") }
}

/** ARGV: id, iso, ms, liveSessions, maxSessions ('' = default). */
export const markOnline = script("markOnline", `
local id, iso, ms = ARGV[1], ARGV[2], ARGV[3]
redis.call('SADD', ONLINE, id)
local current = redis.call('GET', KEYS[8])
if current and current >= iso then
  redis.call('ZADD', HB_INDEX, isoToMs(current) or ms, id)
else
  redis.call('SET', KEYS[8], iso)
  redis.call('ZADD', HB_INDEX, ms, id)
end
redis.call('SET', KEYS[7], ARGV[4])
setMaxSessions(id, ARGV[5])
refreshFree(id, KEYS[7])
return 1
`)

/** ARGV: id. */
export const markOffline = script("markOffline", `
local id = ARGV[1]
redis.call('SREM', ONLINE, id)
redis.call('DEL', KEYS[8])
redis.call('ZREM', HB_INDEX, id)
redis.call('ZREM', FREE_INDEX, id)
return 1
`)

/** ARGV: id, '1' (deactivate: also offline) | '0' (reactivate). */
export const setDeactivated = script("setDeactivated", `
local id = ARGV[1]
if ARGV[2] == '1' then
  redis.call('SADD', DEACTIVATED, id)
  redis.call('SREM', ONLINE, id)
  redis.call('DEL', KEYS[8])
  redis.call('ZREM', HB_INDEX, id)
  redis.call('ZREM', FREE_INDEX, id)
else
  redis.call('SREM', DEACTIVATED, id)
  refreshFree(id, KEYS[7])
end
return 1
`)

/** ARGV: id, liveSessions, maxSessions ('' = default). */
export const setCapacity = script("setCapacity", `
local id = ARGV[1]
redis.call('SET', KEYS[7], ARGV[2])
setMaxSessions(id, ARGV[3])
refreshFree(id, KEYS[7])
return 1
`)

/**
 * The heartbeat: guard (SISMEMBER deactivated) and write in one round trip. ARGV: id, iso, ms.
 * Never moves a heartbeat backwards; never brings an offline mitra back.
 */
export const heartbeat = script("heartbeat", `
local id, iso, ms = ARGV[1], ARGV[2], ARGV[3]
if not isSeeded() then return 'unseeded' end
if redis.call('SISMEMBER', DEACTIVATED, id) == 1 then return 'deactivated' end
if redis.call('SISMEMBER', ONLINE, id) == 0 then return 'not_online' end
local current = redis.call('GET', KEYS[8])
if current and current >= iso then return 'recorded' end
redis.call('SET', KEYS[8], iso)
redis.call('ZADD', HB_INDEX, ms, id)
if redis.call('ZSCORE', FREE_INDEX, id) then
  redis.call('ZADD', FREE_INDEX, ms, id)
else
  refreshFree(id, KEYS[7])
end
return 'recorded'
`)

/** ARGV: id, freshSince (ISO). ISO-8601 UTC strings compare like the instants they name. */
export const isReachable = script("isReachable", `
local id = ARGV[1]
if not isSeeded() then return notSeeded() end
if redis.call('SISMEMBER', ONLINE, id) == 0 or redis.call('SISMEMBER', DEACTIVATED, id) == 1 then return 0 end
local hb = redis.call('GET', KEYS[8])
if hb and hb >= ARGV[2] then return 1 end
return 0
`)

/**
 * findAvailable / countAvailable. ARGV: freshSince (ms), defaultMax, defaultMaxVersion,
 * 'ids' | 'count', prefix. A newer max_sessions_per_mitra than the index was built with rebuilds
 * the free index first (O(online), once per change); an older one (an instance whose settings
 * cache lags) is ignored.
 */
export const queryAvailable = script("queryAvailable", `
local meta = redis.call('HMGET', META, 'seededAt', 'defaultMaxVersion')
if not meta[1] then return notSeeded() end
if tonumber(ARGV[3]) > (tonumber(meta[2]) or -1) then
  local default, prefix = tonumber(ARGV[2]), ARGV[5]
  redis.call('HSET', META, 'defaultMax', ARGV[2], 'defaultMaxVersion', ARGV[3])
  redis.call('DEL', FREE_INDEX)
  local free = batcher(FREE_INDEX)
  local entries = redis.call('ZRANGE', HB_INDEX, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local id = entries[i]
    if redis.call('SISMEMBER', DEACTIVATED, id) == 0 then
      local live = tonumber(redis.call('GET', prefix .. 'mitra:capacity:' .. id)) or 0
      if live < maxSessionsOf(id, default) then free.add(entries[i + 1], id) end
    end
  end
  free.flush()
end
if ARGV[4] == 'count' then return redis.call('ZCOUNT', FREE_INDEX, ARGV[1], '+inf') end
return table.concat(redis.call('ZRANGE', FREE_INDEX, ARGV[1], '+inf', 'BYSCORE'), ',')
`)

/** SCARD of the online set, refusing while unseeded. */
export const countOnline = script("countOnline", `
if not isSeeded() then return notSeeded() end
return redis.call('SCARD', ONLINE)
`)

/**
 * The seed's swap. KEYS[7..10] = staged online set, staged deactivated set, staged max-sessions
 * hash, staged heartbeats hash (id → ISO from Postgres, '' when null; one field per online mitra).
 * ARGV: prefix, defaultMax, defaultMaxVersion, seededAt. Capacity keys were written before.
 * Keeps a Valkey heartbeat fresher than Postgres's; rebuilds both indexes; marks the mirror seeded.
 */
export const swapInSeed = script("swapInSeed", `
local prefix, default = ARGV[1], tonumber(ARGV[2])
local STAGED_ONLINE, STAGED_DEACTIVATED, STAGED_MAX, STAGED_HEARTBEATS = KEYS[7], KEYS[8], KEYS[9], KEYS[10]
for _, id in ipairs(redis.call('SDIFF', ONLINE, STAGED_ONLINE)) do
  redis.call('DEL', prefix .. 'mitra:heartbeat:' .. id)
end
local function swapIn(staged, live)
  if redis.call('EXISTS', staged) == 1 then
    redis.call('RENAME', staged, live)
    redis.call('PERSIST', live)
  else
    redis.call('DEL', live)
  end
end
swapIn(STAGED_ONLINE, ONLINE)
swapIn(STAGED_DEACTIVATED, DEACTIVATED)
swapIn(STAGED_MAX, MAX_SESSIONS)
redis.call('DEL', HB_INDEX, FREE_INDEX)
local heartbeats, free = batcher(HB_INDEX), batcher(FREE_INDEX)
local staged = redis.call('HGETALL', STAGED_HEARTBEATS)
for i = 1, #staged, 2 do
  local id, iso = staged[i], staged[i + 1]
  local key = prefix .. 'mitra:heartbeat:' .. id
  local current = redis.call('GET', key)
  if current and (iso == '' or current > iso) then
    iso = current
  elseif iso ~= '' and current ~= iso then
    redis.call('SET', key, iso)
  end
  local ms = iso ~= '' and isoToMs(iso)
  if ms then
    heartbeats.add(ms, id)
    if redis.call('SISMEMBER', DEACTIVATED, id) == 0 then
      local live = tonumber(redis.call('GET', prefix .. 'mitra:capacity:' .. id)) or 0
      if live < maxSessionsOf(id, default) then free.add(ms, id) end
    end
  end
end
heartbeats.flush()
free.flush()
redis.call('DEL', STAGED_HEARTBEATS)
redis.call('HSET', META, 'seededAt', ARGV[4], 'defaultMax', ARGV[2], 'defaultMaxVersion', ARGV[3])
return #staged / 2
`)

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith("NOSCRIPT")

/** EVALSHA, or EVAL (which also caches the script) when the server does not have it. */
export const runScript = (
  redis: Redis,
  script: LuaScript,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>
): Promise<unknown> =>
  redis.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: unknown) =>
    isNoScript(error) ? redis.eval(script.lua, keys.length, ...keys, ...args) : Promise.reject(error)
  )
