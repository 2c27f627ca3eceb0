/**
 * The Lua scripts of the Valkey availability store. Each write keeps the contract keys and the
 * auxiliary indexes in step atomically (a script runs alone on the server); each read answers
 * server-side and returns only what the caller needs. Run with EVALSHA, falling back to EVAL when
 * the server does not know the script (first use, or after a restart).
 *
 * Key layout shared by every script — KEYS[1..11]: online, deactivated, heartbeat index, free
 * index, max-sessions hash, meta hash, running seeds, dirty-status set, dirty-capacity hash,
 * dirty-heartbeat set, status-version hash (see MirrorKeys.ts). Per-mitra scripts add KEYS[12] =
 * the mitra's capacity key and KEYS[13] = its heartbeat key. Scripts that visit many mitras build per-mitra key names
 * from the prefix (ARGV): on a Valkey Cluster, give the prefix a hash tag (e.g. `{mitra}:`) so
 * every key shares a slot.
 *
 * Invariants (docs/availability.md):
 * - heartbeat index = { id ∈ online with a heartbeat key }, score = that time in epoch ms;
 * - free index = { id ∈ heartbeat index, id ∉ deactivated, capacity < max }, same score, where
 *   max = max-sessions[id] or meta.defaultMax. Available now = free members scored ≥ fresh-since.
 * - meta.seededAt is set by a seed; without it (an empty server after a restart) reads refuse
 *   with NOTSEEDED and callers fall back to Postgres until the reseed lands.
 * - while a seed runs (running seeds non-empty), every status or capacity write adds its mitra to
 *   a dirty set; the seed's swap keeps those mitras' live state, which is newer than its read.
 * - status writes (online, offline, (de)activation) carry the `mitras.status_version` they
 *   committed; one older than the version last applied to the mitra is ignored, so writes that
 *   reach Valkey out of order (two instances, or two fibers) end at the last committed state.
 */
import { luaScript, type LuaScript } from "../../valkey/LuaScript.js"
import { capacityKeyName, heartbeatKeyName } from "./MirrorKeys.js"

/** What a read says when the mirror is unseeded (a restarted, empty server). */
export const notSeededMessage = "NOTSEEDED the availability mirror has not been seeded since Valkey started"

const prelude = `
local ONLINE, DEACTIVATED, HB_INDEX, FREE_INDEX, MAX_SESSIONS, META = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local SEEDS, DIRTY_STATUS, DIRTY_CAPACITY, DIRTY_HEARTBEAT = KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local STATUS_VERSIONS = KEYS[11]
local CAPACITY_KEY, HEARTBEAT_KEY = KEYS[12], KEYS[13]

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
  return redis.error_reply('${notSeededMessage}')
end

local function isSeeded()
  return redis.call('HEXISTS', META, 'seededAt') == 1
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
      local max = tonumber(redis.call('HGET', MAX_SESSIONS, id)) or defaultMax()
      if live < max then
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

-- While a seed runs, a write tells it which mitras it must not overwrite with its older read
-- (and, for capacity, the value it wrote: the seed's own capacity writes may land after it).
local function noteDirtyStatus(id)
  if redis.call('ZCARD', SEEDS) > 0 then redis.call('SADD', DIRTY_STATUS, id) end
end
local function noteDirtyCapacity(id, live)
  if redis.call('ZCARD', SEEDS) > 0 then redis.call('HSET', DIRTY_CAPACITY, id, live) end
end
local function noteDirtyHeartbeat(id)
  if redis.call('ZCARD', SEEDS) > 0 then redis.call('SADD', DIRTY_HEARTBEAT, id) end
end

-- A status write applies only if its Postgres version is not older than the last one applied
-- (equal: the same committed state, re-asserted). Records the version when it applies.
local function acceptStatus(id, version)
  local applied = tonumber(redis.call('HGET', STATUS_VERSIONS, id))
  if applied and tonumber(version) < applied then return false end
  redis.call('HSET', STATUS_VERSIONS, id, version)
  return true
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

/** A script on this file's key layout (the prelude's KEYS and helpers). */
const script = (name: string, body: string): LuaScript => luaScript(name, `${prelude}\n${body}`)

/**
 * ARGV: id, iso, ms, liveSessions, maxSessions ('' = default), status version. A no-op (returns
 * 0) when older than the mitra's last applied status, and for a member of the deactivated set.
 */
export const markOnline = script("markOnline", `
local id, iso, ms = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SISMEMBER', DEACTIVATED, id) == 1 then return 0 end
if not acceptStatus(id, ARGV[6]) then return 0 end
noteDirtyStatus(id)
noteDirtyCapacity(id, ARGV[4])
redis.call('SADD', ONLINE, id)
local current = redis.call('GET', HEARTBEAT_KEY)
if current and current >= iso then
  redis.call('ZADD', HB_INDEX, isoToMs(current) or ms, id)
else
  redis.call('SET', HEARTBEAT_KEY, iso)
  redis.call('ZADD', HB_INDEX, ms, id)
end
redis.call('SET', CAPACITY_KEY, ARGV[4])
setMaxSessions(id, ARGV[5])
refreshFree(id, CAPACITY_KEY)
return 1
`)

/** ARGV: id, status version. A no-op (returns 0) when older than the mitra's last applied status. */
export const markOffline = script("markOffline", `
local id = ARGV[1]
if not acceptStatus(id, ARGV[2]) then return 0 end
noteDirtyStatus(id)
redis.call('SREM', ONLINE, id)
redis.call('DEL', HEARTBEAT_KEY)
redis.call('ZREM', HB_INDEX, id)
redis.call('ZREM', FREE_INDEX, id)
return 1
`)

/**
 * ARGV: id, '1' (deactivate: also offline) | '0' (reactivate), status version. A no-op (returns
 * 0) when older than the mitra's last applied status.
 */
export const setDeactivated = script("setDeactivated", `
local id = ARGV[1]
if not acceptStatus(id, ARGV[3]) then return 0 end
noteDirtyStatus(id)
if ARGV[2] == '1' then
  redis.call('SADD', DEACTIVATED, id)
  redis.call('SREM', ONLINE, id)
  redis.call('DEL', HEARTBEAT_KEY)
  redis.call('ZREM', HB_INDEX, id)
  redis.call('ZREM', FREE_INDEX, id)
else
  redis.call('SREM', DEACTIVATED, id)
  refreshFree(id, CAPACITY_KEY)
end
return 1
`)

/** ARGV: id, liveSessions, maxSessions ('' = default). */
export const setCapacity = script("setCapacity", `
local id = ARGV[1]
noteDirtyCapacity(id, ARGV[2])
redis.call('SET', CAPACITY_KEY, ARGV[2])
setMaxSessions(id, ARGV[3])
refreshFree(id, CAPACITY_KEY)
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
local current = redis.call('GET', HEARTBEAT_KEY)
if current and current >= iso then return 'recorded' end
noteDirtyHeartbeat(id)
redis.call('SET', HEARTBEAT_KEY, iso)
redis.call('ZADD', HB_INDEX, ms, id)
if redis.call('ZSCORE', FREE_INDEX, id) then
  redis.call('ZADD', FREE_INDEX, ms, id)
else
  refreshFree(id, CAPACITY_KEY)
end
return 'recorded'
`)

/** ARGV: id, freshSince (ISO). ISO-8601 UTC strings compare like the instants they name. */
export const isReachable = script("isReachable", `
local id = ARGV[1]
if not isSeeded() then return notSeeded() end
if redis.call('SISMEMBER', ONLINE, id) == 0 or redis.call('SISMEMBER', DEACTIVATED, id) == 1 then return 0 end
local hb = redis.call('GET', HEARTBEAT_KEY)
if hb and hb >= ARGV[2] then return 1 end
return 0
`)

/**
 * countAvailable, and findAvailable after a settings change. ARGV: freshSince (ms), defaultMax,
 * defaultMaxVersion, 'ids' | 'count', prefix. A newer max_sessions_per_mitra than the index was
 * built with rebuilds the free index first (O(online), once per change); an older one (an
 * instance whose settings cache lags) is ignored.
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
      local live = tonumber(redis.call('GET', prefix .. '${capacityKeyName}' .. id)) or 0
      local max = tonumber(redis.call('HGET', MAX_SESSIONS, id)) or default
      if live < max then free.add(entries[i + 1], id) end
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
 * A seed's heartbeat merge, one slice of online mitras at a time (before the swap, so no long
 * stall). ARGV: prefix, then (id, Postgres heartbeat ISO or '') pairs. Writes Postgres's heartbeat
 * where it is the fresher (a heartbeat key never moves backwards, so this is right at any moment);
 * returns (id, ms) pairs for the mitras whose Valkey heartbeat is the fresher.
 */
export const mergeHeartbeats = script("mergeHeartbeats", `
local prefix = ARGV[1]
local keys = {}
for i = 2, #ARGV, 2 do keys[#keys + 1] = prefix .. '${heartbeatKeyName}' .. ARGV[i] end
if #keys == 0 then return {} end
local currents = redis.call('MGET', unpack(keys))
local writes, fresher = {}, {}
for j = 1, #keys do
  local id, iso, current = ARGV[2 * j], ARGV[2 * j + 1], currents[j]
  if current and (iso == '' or current > iso) then
    local ms = redis.call('ZSCORE', HB_INDEX, id) or isoToMs(current)
    if ms then
      fresher[#fresher + 1] = id
      fresher[#fresher + 1] = string.format('%.0f', tonumber(ms))
    end
  elseif iso ~= '' and current ~= iso then
    writes[#writes + 1] = keys[j]
    writes[#writes + 1] = iso
  end
end
if #writes > 0 then redis.call('MSET', unpack(writes)) end
return fresher
`)

/**
 * A seed's clean-up of per-mitra keys Postgres does not imply (a mitra deleted, or a key written
 * under a malformed id): the sets and indexes are replaced whole by the swap, but `mitra:capacity:`
 * and `mitra:heartbeat:` keys live one per mitra. ARGV: prefix, then ids whose capacity key the
 * seed found stray, '--', then ids whose heartbeat key it found stray. A mitra written while the
 * seed ran (a dirty set) is left alone — it may be newer than the seed's read — and so is the
 * heartbeat of a live online member (the swap judges those). Returns how many keys it deleted.
 */
export const removeStrayKeys = script("removeStrayKeys", `
local prefix = ARGV[1]
local function dirty(id)
  return redis.call('SISMEMBER', DIRTY_STATUS, id) == 1 or redis.call('HEXISTS', DIRTY_CAPACITY, id) == 1
    or redis.call('SISMEMBER', DIRTY_HEARTBEAT, id) == 1
end
local removed, kind = 0, 'capacity'
for i = 2, #ARGV do
  local id = ARGV[i]
  if id == '--' then
    kind = 'heartbeat'
  elseif not dirty(id) and (kind == 'capacity' or redis.call('SISMEMBER', ONLINE, id) == 0) then
    removed = removed + redis.call('DEL', prefix .. (kind == 'capacity' and '${capacityKeyName}' or '${heartbeatKeyName}') .. id)
  end
end
return removed
`)

/**
 * The seed's swap: renames of what the seed staged (O(1) each), then fix-ups for the few mitras
 * written while the seed ran. KEYS[12..17] = staged online set, staged deactivated set, staged
 * max-sessions hash, staged heartbeat index, staged free index, staged status versions. ARGV: prefix, defaultMax,
 * defaultMaxVersion, seededAt, seed token, now (ms). Capacity and heartbeat keys were written before.
 */
export const swapInSeed = script("swapInSeed", `
local prefix, token, now = ARGV[1], ARGV[5], ARGV[6]
local STAGED_ONLINE, STAGED_DEACTIVATED, STAGED_MAX, STAGED_HB, STAGED_FREE = KEYS[12], KEYS[13], KEYS[14], KEYS[15], KEYS[16]
local STAGED_VERSIONS = KEYS[17]

-- Mitras written while the seed ran: their live state is newer than the seed's read. Keep it.
local kept = {}
for _, id in ipairs(redis.call('SMEMBERS', DIRTY_STATUS)) do
  kept[id] = {
    online = redis.call('SISMEMBER', ONLINE, id) == 1,
    deactivated = redis.call('SISMEMBER', DEACTIVATED, id) == 1,
    score = redis.call('ZSCORE', HB_INDEX, id),
    version = redis.call('HGET', STATUS_VERSIONS, id)
  }
end
local keptMax, keptCapacity = {}, {}
for id in pairs(kept) do keptMax[id] = redis.call('HGET', MAX_SESSIONS, id) or '' end
local capacities = redis.call('HGETALL', DIRTY_CAPACITY)
for i = 1, #capacities, 2 do
  keptCapacity[capacities[i]] = capacities[i + 1]
  keptMax[capacities[i]] = redis.call('HGET', MAX_SESSIONS, capacities[i]) or ''
end
-- Heartbeats that landed while the seed ran may be fresher than what it staged.
local beats = {}
for _, id in ipairs(redis.call('SMEMBERS', DIRTY_HEARTBEAT)) do beats[id] = redis.call('ZSCORE', HB_INDEX, id) end

for _, id in ipairs(redis.call('SDIFF', ONLINE, STAGED_ONLINE)) do
  if not (kept[id] and kept[id].online) then redis.call('DEL', prefix .. '${heartbeatKeyName}' .. id) end
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
swapIn(STAGED_HB, HB_INDEX)
swapIn(STAGED_FREE, FREE_INDEX)
swapIn(STAGED_VERSIONS, STATUS_VERSIONS)
redis.call('HSET', META, 'seededAt', ARGV[4], 'defaultMax', ARGV[2], 'defaultMaxVersion', ARGV[3])

local touched = {}
for id, score in pairs(beats) do
  if score and redis.call('SISMEMBER', ONLINE, id) == 1 then redis.call('ZADD', HB_INDEX, 'GT', score, id) end
  touched[id] = true
end
for id, state in pairs(kept) do
  if state.online then redis.call('SADD', ONLINE, id) else redis.call('SREM', ONLINE, id) end
  if state.deactivated then redis.call('SADD', DEACTIVATED, id) else redis.call('SREM', DEACTIVATED, id) end
  if state.version then redis.call('HSET', STATUS_VERSIONS, id, state.version) end
  if state.online and state.score then
    redis.call('ZADD', HB_INDEX, state.score, id)
  else
    redis.call('ZREM', HB_INDEX, id)
    if not state.online then redis.call('DEL', prefix .. '${heartbeatKeyName}' .. id) end
  end
  touched[id] = true
end
for id, max in pairs(keptMax) do
  if keptCapacity[id] then redis.call('SET', prefix .. '${capacityKeyName}' .. id, keptCapacity[id]) end
  setMaxSessions(id, max)
  touched[id] = true
end
for id in pairs(touched) do refreshFree(id, prefix .. '${capacityKeyName}' .. id) end

redis.call('ZREM', SEEDS, token)
redis.call('ZREMRANGEBYSCORE', SEEDS, '-inf', now)
if redis.call('ZCARD', SEEDS) == 0 then redis.call('DEL', DIRTY_STATUS, DIRTY_CAPACITY, DIRTY_HEARTBEAT) end
return redis.call('SCARD', ONLINE)
`)

export type { LuaScript }
