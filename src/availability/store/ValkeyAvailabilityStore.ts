/**
 * The availability store on Valkey: the contract keys of ARCHITECTURE.md section 3 plus the
 * auxiliary indexes of `ValkeyScripts.ts`, every operation one round trip (the seed: one staging
 * pipeline and one swap).
 */
import { Effect } from "effect"
import type { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import { runScript } from "../../valkey/LuaScript.js"
import type { ValkeyClientShape } from "../../valkey/ValkeyClient.js"
import type {
  AvailabilityQuery,
  AvailabilityStoreShape,
  HeartbeatOutcome,
  MitraCapacity,
  SeedInput
} from "./AvailabilityStore.js"
import type { MirrorInspector, MirrorState } from "./MirrorInspector.js"
import { mirrorKeys } from "./MirrorKeys.js"
import * as Scripts from "./ValkeyScripts.js"
import { valkeyStaleOnline } from "./ValkeyStaleScan.js"

/** Staged seed keys expire on their own if a seed dies half-way. */
const stagingTtlSeconds = 120
/** Members or fields per command while staging a seed. */
const chunkSize = 1_000

const chunks = <A>(items: ReadonlyArray<A>, size = chunkSize): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const execOrThrow = async (pipeline: ReturnType<Redis["pipeline"]>) => {
  const results = await pipeline.exec()
  const failed = results?.find(([error]) => error !== null)
  if (failed) throw failed[0]
}

const heartbeatOutcomes: ReadonlyArray<HeartbeatOutcome> = ["recorded", "not_online", "deactivated", "unseeded"]

/** A glob-safe SCAN pattern for keys starting with `literal`. */
const scanPattern = (literal: string) => `${literal.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`

const scanKeys = async (redis: Redis, prefix: string): Promise<Array<string>> => {
  const keys: Array<string> = []
  let cursor = "0"
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", scanPattern(prefix), "COUNT", 1000)
    cursor = next
    keys.push(...batch)
  } while (cursor !== "0")
  return keys
}

export const makeValkeyAvailabilityStore = (client: ValkeyClientShape, prefix: string): AvailabilityStoreShape => {
  const keys = mirrorKeys(prefix)
  const shared = [
    keys.online,
    keys.deactivated,
    keys.heartbeatIndex,
    keys.freeIndex,
    keys.maxSessions,
    keys.meta,
    keys.seeds,
    keys.dirtyStatus,
    keys.dirtyCapacity,
    keys.dirtyHeartbeat,
    keys.statusVersions
  ]
  const perMitra = (mitraId: string) => [...shared, keys.capacity(mitraId), keys.heartbeat(mitraId)]
  const maxArg = (capacity: MitraCapacity) => capacity.maxConcurrentSessions === null ? "" : capacity.maxConcurrentSessions

  const run = (script: Scripts.LuaScript, scriptKeys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) =>
    client.use(script.name, (redis) => runScript(redis, script, scriptKeys, args))

  const queryArgs = (query: AvailabilityQuery, mode: "ids" | "count") => [
    query.freshSince.getTime(),
    query.defaultMaxSessions,
    query.defaultMaxVersion,
    mode,
    prefix
  ]

  /** Stages the new state beside the live one (the live mirror is untouched). */
  const stage = async (redis: Redis, staged: ReturnType<typeof keys.staging>, { defaults, mitras }: SeedInput) => {
    const online = mitras.filter((m) => m.isOnline)
    const pipeline = redis.pipeline()
    for (const ids of chunks(online.map((m) => m.id))) pipeline.sadd(staged.online, ...ids)
    for (const ids of chunks(mitras.filter((m) => !m.isActive).map((m) => m.id))) pipeline.sadd(staged.deactivated, ...ids)
    for (const batch of chunks(mitras.filter((m) => m.maxConcurrentSessions !== null))) {
      pipeline.hset(staged.maxSessions, ...batch.flatMap((m) => [m.id, String(m.maxConcurrentSessions)]))
    }
    // Capacity keys are written now: a write made since the seed began is re-applied by the swap.
    for (const batch of chunks(mitras)) pipeline.mset(...batch.flatMap((m) => [keys.capacity(m.id), String(m.liveSessions)]))
    for (const batch of chunks(mitras)) pipeline.hset(staged.statusVersions, ...batch.flatMap((m) => [m.id, String(m.statusVersion)]))
    for (const key of Object.values(staged)) pipeline.expire(key, stagingTtlSeconds)
    await execOrThrow(pipeline)

    // Heartbeat keys: Postgres's where it is fresher, in slices (each a short script, not one long
    // stall); the slices report the mitras whose Valkey heartbeat is the fresher, with its time.
    const fresherInValkey = new Map<string, string>()
    const replies = await Promise.all(chunks(online, 500).map((slice) =>
      runScript(redis, Scripts.mergeHeartbeats, shared, [
        prefix,
        ...slice.flatMap((m) => [m.id, m.lastHeartbeatAt?.toISOString() ?? ""])
      ])
    ))
    for (const reply of replies) {
      const flat = reply as Array<string>
      for (let i = 0; i + 1 < flat.length; i += 2) fresherInValkey.set(flat[i]!, flat[i + 1]!)
    }
    // The new indexes, built here rather than inside the swap (which then only renames them).
    const indexes = redis.pipeline()
    const heartbeatScores: Array<string | number> = []
    const freeScores: Array<string | number> = []
    for (const m of online) {
      const ms = fresherInValkey.get(m.id) ?? m.lastHeartbeatAt?.getTime()
      if (ms === undefined) continue
      heartbeatScores.push(ms, m.id)
      if (m.isActive && m.liveSessions < (m.maxConcurrentSessions ?? defaults.defaultMaxSessions)) freeScores.push(ms, m.id)
    }
    for (const batch of chunks(heartbeatScores, chunkSize * 2)) indexes.zadd(staged.heartbeatIndex, ...batch)
    for (const batch of chunks(freeScores, chunkSize * 2)) indexes.zadd(staged.freeIndex, ...batch)
    indexes.expire(staged.heartbeatIndex, stagingTtlSeconds)
    indexes.expire(staged.freeIndex, stagingTtlSeconds)
    await execOrThrow(indexes)
    await removeStrays(redis, mitras)
  }

  /** Deletes the per-mitra keys whose id Postgres does not imply (see `Scripts.removeStrayKeys`). */
  const removeStrays = async (redis: Redis, mitras: SeedInput["mitras"]) => {
    const known = new Set(mitras.map((m) => m.id))
    const online = new Set(mitras.filter((m) => m.isOnline).map((m) => m.id))
    const idsOf = async (literal: string, implied: ReadonlySet<string>) =>
      (await scanKeys(redis, literal)).map((key) => key.slice(literal.length)).filter((id) => !implied.has(id))
    const strayCapacity = await idsOf(keys.capacity(""), known)
    const strayHeartbeat = await idsOf(keys.heartbeat(""), online)
    const all = [...strayCapacity.map((id) => ["capacity", id] as const), ...strayHeartbeat.map((id) => ["heartbeat", id] as const)]
    for (const slice of chunks(all, 500)) {
      const capacity = slice.filter(([kind]) => kind === "capacity").map(([, id]) => id)
      const heartbeat = slice.filter(([kind]) => kind === "heartbeat").map(([, id]) => id)
      await runScript(redis, Scripts.removeStrayKeys, shared, [prefix, ...capacity, "--", ...heartbeat])
    }
  }

  const replaceAll = <E>(readTruth: Effect.Effect<SeedInput, E>) => {
    const token = randomUUID()
    const begin = client.use("seed: begin", (redis) => redis.zadd(keys.seeds, Date.now() + stagingTtlSeconds * 1000, token))
    const abandon = client.use("seed: abandon", (redis) => redis.zrem(keys.seeds, token)).pipe(Effect.ignore)
    const install = (truth: SeedInput) =>
      client.use("seed", async (redis) => {
        const staged = keys.staging(token)
        await stage(redis, staged, truth)
        await runScript(
          redis,
          Scripts.swapInSeed,
          [
            ...shared,
            staged.online,
            staged.deactivated,
            staged.maxSessions,
            staged.heartbeatIndex,
            staged.freeIndex,
            staged.statusVersions
          ],
          [prefix, truth.defaults.defaultMaxSessions, truth.defaults.defaultMaxVersion, new Date().toISOString(), token, Date.now()]
        )
      })
    return begin.pipe(
      Effect.zipRight(readTruth),
      Effect.tap(install),
      Effect.onError(() => abandon)
    )
  }

  return {
    kind: "valkey",

    markOnline: (mitraId, at, capacity, version) =>
      run(Scripts.markOnline, perMitra(mitraId), [
        mitraId,
        at.toISOString(),
        at.getTime(),
        capacity.liveSessions,
        maxArg(capacity),
        version
      ]).pipe(Effect.asVoid),

    markOffline: (mitraId, version) => run(Scripts.markOffline, perMitra(mitraId), [mitraId, version]).pipe(Effect.asVoid),

    setDeactivated: (mitraId, deactivated, version) =>
      run(Scripts.setDeactivated, perMitra(mitraId), [mitraId, deactivated ? "1" : "0", version]).pipe(Effect.asVoid),

    setCapacity: (mitraId, capacity) =>
      run(Scripts.setCapacity, perMitra(mitraId), [mitraId, capacity.liveSessions, maxArg(capacity)]).pipe(Effect.asVoid),

    recordHeartbeat: (mitraId, at) =>
      run(Scripts.heartbeat, perMitra(mitraId), [mitraId, at.toISOString(), at.getTime()]).pipe(
        Effect.map((reply) => heartbeatOutcomes.find((o) => o === reply) ?? "unseeded")
      ),

    isReachable: (mitraId, freshSince) =>
      run(Scripts.isReachable, perMitra(mitraId), [mitraId, freshSince.toISOString()]).pipe(Effect.map((reply) => reply === 1)),

    // The common case without Lua: MULTI [HMGET meta, ZRANGE free BYSCORE] is one round trip and
    // skips building the reply inside the script (measured: about half the time at 10k mitras).
    // Only a newer max_sessions_per_mitra than the index's takes the script, which rebuilds first.
    findAvailable: (query) =>
      client.use("findAvailable", async (redis) => {
        const replies = await redis.multi()
          .hmget(keys.meta, "seededAt", "defaultMaxVersion")
          .zrange(keys.freeIndex, query.freshSince.getTime(), "+inf", "BYSCORE")
          .exec()
        const failed = replies?.find(([error]) => error !== null)
        if (replies === null || failed) throw failed?.[0] ?? new Error("MULTI aborted")
        const [seededAt, version] = replies[0]![1] as Array<string | null>
        if (seededAt === null || seededAt === undefined) throw new Error(Scripts.notSeededMessage)
        if (query.defaultMaxVersion <= Number(version ?? -1)) return replies[1]![1] as Array<string>
        const reply = await runScript(redis, Scripts.queryAvailable, shared, queryArgs(query, "ids"))
        return typeof reply === "string" && reply !== "" ? reply.split(",") : []
      }),

    countAvailable: (query) => run(Scripts.queryAvailable, shared, queryArgs(query, "count")).pipe(Effect.map(Number)),

    countOnline: run(Scripts.countOnline, shared, []).pipe(Effect.map(Number)),

    staleOnline: valkeyStaleOnline(client, keys),

    onlineHeartbeats: client.use("onlineHeartbeats", (redis) => redis.zrange(keys.heartbeatIndex, 0, -1, "WITHSCORES")).pipe(
      Effect.map((flat) => {
        const out: Array<{ mitraId: string; at: Date }> = []
        for (let i = 0; i + 1 < flat.length; i += 2) out.push({ mitraId: flat[i]!, at: new Date(Number(flat[i + 1])) })
        return out
      })
    ),

    isSeeded: client.use("HEXISTS meta seededAt", (redis) => redis.hexists(keys.meta, "seededAt")).pipe(
      Effect.map((reply) => reply === 1)
    ),
    replaceAll
  }
}

/** `MirrorInspector.readState` on Valkey: SMEMBERS of the sets, SCAN + MGET of the per-mitra keys. */
export const makeValkeyMirrorInspector = (client: ValkeyClientShape, prefix: string): MirrorInspector["Type"] => {
  const keys = mirrorKeys(prefix)
  const readState = client.use("readState", async (redis): Promise<MirrorState> => {
    const [online, deactivated, capacityKeys, heartbeatKeys] = await Promise.all([
      redis.smembers(keys.online),
      redis.smembers(keys.deactivated),
      scanKeys(redis, keys.capacity("")),
      scanKeys(redis, keys.heartbeat(""))
    ])
    const values = async (found: ReadonlyArray<string>, idOf: (key: string) => string) => {
      const out: Record<string, string> = {}
      for (const batch of chunks(found)) {
        const read = await redis.mget(...batch)
        batch.forEach((key, i) => {
          const value = read[i]
          if (value !== null && value !== undefined) out[idOf(key)] = value
        })
      }
      return out
    }
    const capacity = await values(capacityKeys, (key) => key.slice(keys.capacity("").length))
    const heartbeat = await values(heartbeatKeys, (key) => key.slice(keys.heartbeat("").length))
    return {
      online: online.sort(),
      deactivated: deactivated.sort(),
      capacity: Object.fromEntries(Object.entries(capacity).map(([id, v]) => [id, Number(v)])),
      heartbeat
    }
  })

  return { readState }
}
