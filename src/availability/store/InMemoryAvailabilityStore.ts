/**
 * The availability store in this process's memory: the one-instance mode (no `VALKEY_URL`) and
 * fast tests. Same semantics as the Valkey store, checked by the same contract suite; every
 * operation is synchronous, so each is atomic like a Lua script.
 */
import { Effect } from "effect"
import type { AvailabilityStoreShape, MitraCapacity, SeedInput, StaleMitra } from "./AvailabilityStore.js"
import type { MirrorInspector } from "./MirrorInspector.js"

interface State {
  online: Set<string>
  deactivated: Set<string>
  capacity: Map<string, number>
  heartbeat: Map<string, string>
  maxSessions: Map<string, number>
  /** The status version last applied per mitra (`StatusVersion`). */
  statusVersions: Map<string, number>
}

const emptyState = (): State => ({
  online: new Set(),
  deactivated: new Set(),
  capacity: new Map(),
  heartbeat: new Map(),
  maxSessions: new Map(),
  statusVersions: new Map()
})

/** The store, and an inspector reading the same memory. */
export const makeInMemoryAvailabilityStore = (): {
  readonly store: AvailabilityStoreShape
  readonly inspector: MirrorInspector["Type"]
} => {
  let state = emptyState()
  // While a seed reads Postgres, writes note their mitra: the seed keeps their (newer) state.
  let seedsRunning = 0
  const dirtyStatus = new Set<string>()
  const dirtyCapacity = new Set<string>()
  const noteStatus = (mitraId: string) => seedsRunning > 0 && dirtyStatus.add(mitraId)
  const noteCapacity = (mitraId: string) => seedsRunning > 0 && dirtyCapacity.add(mitraId)

  const install = ({ mitras }: SeedInput) => {
    const next = emptyState()
    for (const m of mitras) {
      next.capacity.set(m.id, m.liveSessions)
      next.statusVersions.set(m.id, m.statusVersion)
      if (m.maxConcurrentSessions !== null) next.maxSessions.set(m.id, m.maxConcurrentSessions)
      if (!m.isActive) next.deactivated.add(m.id)
      if (!m.isOnline) continue
      next.online.add(m.id)
      const fromPostgres = m.lastHeartbeatAt?.toISOString()
      const current = state.heartbeat.get(m.id)
      const freshest = current !== undefined && (fromPostgres === undefined || current > fromPostgres) ? current : fromPostgres
      if (freshest !== undefined) next.heartbeat.set(m.id, freshest)
    }
    const keep = <K, V>(from: Map<K, V>, to: Map<K, V>, key: K) => {
      const value = from.get(key)
      if (value === undefined) to.delete(key)
      else to.set(key, value)
    }
    for (const id of dirtyStatus) {
      for (const set of ["online", "deactivated"] as const) {
        if (state[set].has(id)) next[set].add(id)
        else next[set].delete(id)
      }
      keep(state.heartbeat, next.heartbeat, id)
      keep(state.statusVersions, next.statusVersions, id)
    }
    for (const id of [...dirtyStatus, ...dirtyCapacity]) {
      keep(state.capacity, next.capacity, id)
      keep(state.maxSessions, next.maxSessions, id)
    }
    state = next
  }

  /** Whether a status write of `version` applies (not older than the last applied); records it. */
  const acceptStatus = (mitraId: string, version: number) => {
    const applied = state.statusVersions.get(mitraId)
    if (applied !== undefined && version < applied) return false
    state.statusVersions.set(mitraId, version)
    return true
  }

  const setMax = (mitraId: string, capacity: MitraCapacity) => {
    if (capacity.maxConcurrentSessions === null) state.maxSessions.delete(mitraId)
    else state.maxSessions.set(mitraId, capacity.maxConcurrentSessions)
  }

  const available = (freshSince: Date, defaultMax: number) => {
    const cutoff = freshSince.toISOString()
    const ids: Array<string> = []
    for (const id of state.online) {
      if (state.deactivated.has(id)) continue
      const heartbeat = state.heartbeat.get(id)
      if (heartbeat === undefined || heartbeat < cutoff) continue
      if ((state.capacity.get(id) ?? 0) >= (state.maxSessions.get(id) ?? defaultMax)) continue
      ids.push(id)
    }
    return ids
  }

  const store: AvailabilityStoreShape = {
    kind: "memory",

    markOnline: (mitraId, at, capacity, version) =>
      Effect.sync(() => {
        // A late write after a deactivation does not bring the mitra back (as the Valkey script).
        if (state.deactivated.has(mitraId)) return
        if (!acceptStatus(mitraId, version)) return
        noteStatus(mitraId)
        noteCapacity(mitraId)
        state.online.add(mitraId)
        const iso = at.toISOString()
        const current = state.heartbeat.get(mitraId)
        if (current === undefined || current < iso) state.heartbeat.set(mitraId, iso)
        state.capacity.set(mitraId, capacity.liveSessions)
        setMax(mitraId, capacity)
      }),

    markOffline: (mitraId, version) =>
      Effect.sync(() => {
        if (!acceptStatus(mitraId, version)) return
        noteStatus(mitraId)
        state.online.delete(mitraId)
        state.heartbeat.delete(mitraId)
      }),

    setDeactivated: (mitraId, deactivated, version) =>
      Effect.sync(() => {
        if (!acceptStatus(mitraId, version)) return
        noteStatus(mitraId)
        if (deactivated) {
          state.deactivated.add(mitraId)
          state.online.delete(mitraId)
          state.heartbeat.delete(mitraId)
        } else {
          state.deactivated.delete(mitraId)
        }
      }),

    setCapacity: (mitraId, capacity) =>
      Effect.sync(() => {
        noteCapacity(mitraId)
        state.capacity.set(mitraId, capacity.liveSessions)
        setMax(mitraId, capacity)
      }),

    recordHeartbeat: (mitraId, at) =>
      Effect.sync(() => {
        if (state.deactivated.has(mitraId)) return "deactivated" as const
        if (!state.online.has(mitraId)) return "not_online" as const
        const iso = at.toISOString()
        const current = state.heartbeat.get(mitraId)
        if (current === undefined || current < iso) state.heartbeat.set(mitraId, iso)
        return "recorded" as const
      }),

    isReachable: (mitraId, freshSince) =>
      Effect.sync(() => {
        const heartbeat = state.heartbeat.get(mitraId)
        return state.online.has(mitraId) && !state.deactivated.has(mitraId) && heartbeat !== undefined &&
          heartbeat >= freshSince.toISOString()
      }),

    findAvailable: (query) => Effect.sync(() => available(query.freshSince, query.defaultMaxSessions)),

    countAvailable: (query) => Effect.sync(() => available(query.freshSince, query.defaultMaxSessions).length),

    countOnline: Effect.sync(() => state.online.size),

    staleOnline: (staleBefore, mitraIds) =>
      Effect.sync(() => {
        const cutoff = staleBefore.toISOString()
        const candidates = mitraIds === undefined ? [...state.online] : mitraIds.filter((id) => state.online.has(id))
        return candidates.flatMap((mitraId): Array<StaleMitra> => {
          const iso = state.heartbeat.get(mitraId)
          if (iso === undefined) return [{ mitraId, heartbeatAt: null }]
          return iso < cutoff ? [{ mitraId, heartbeatAt: new Date(iso) }] : []
        })
      }),

    onlineHeartbeats: Effect.sync(() =>
      [...state.online].flatMap((mitraId) => {
        const iso = state.heartbeat.get(mitraId)
        return iso === undefined ? [] : [{ mitraId, at: new Date(iso) }]
      })
    ),

    isSeeded: Effect.succeed(true),

    replaceAll: (readTruth) =>
      Effect.suspend(() => {
        seedsRunning++
        return readTruth.pipe(
          Effect.tap((truth) => Effect.sync(() => install(truth))),
          Effect.ensuring(Effect.sync(() => {
            if (--seedsRunning === 0) {
              dirtyStatus.clear()
              dirtyCapacity.clear()
            }
          }))
        )
      })
  }

  const inspector: MirrorInspector["Type"] = {
    readState: Effect.sync(() => ({
      online: [...state.online].sort(),
      deactivated: [...state.deactivated].sort(),
      capacity: Object.fromEntries(state.capacity),
      heartbeat: Object.fromEntries(state.heartbeat)
    }))
  }

  return { store, inspector }
}
