/**
 * The names of the Valkey mirror's keys (ARCHITECTURE.md section 3), under the optional prefix.
 *
 * The contract keys are the seed's, exactly: `mitras:online`, `mitras:deactivated`,
 * `mitra:capacity:<id>`, `mitra:heartbeat:<id>`, `availability:snapshot`. Beside them live a few
 * auxiliary keys (all under `availability:`), maintained by the same Lua scripts that write the
 * contract keys, so the hot reads are one O(log n) command instead of a scan of every online mitra
 * (docs/availability.md, "Auxiliary keys").
 */

export interface MirrorKeys {
  readonly prefix: string
  /** SET: mirror of `mitra_online_status.is_online`. */
  readonly online: string
  /** SET: mirror of `mitras.is_active = false`. */
  readonly deactivated: string
  /** STRING (JSON `{available, asOf}`): the beacon, with a TTL, shared by every instance. */
  readonly snapshot: string
  /** STRING: who is computing the beacon right now (SET NX PX), so misses do not stampede. */
  readonly snapshotLock: string
  /** ZSET: online mitras that have a heartbeat key, scored by its time in epoch milliseconds. */
  readonly heartbeatIndex: string
  /** ZSET: online, not deactivated, below capacity; scored by heartbeat ms. Fresh members are the available ones. */
  readonly freeIndex: string
  /** HASH: mitra id → `mitras.max_concurrent_sessions`, for mitras that set one (others use the config default). */
  readonly maxSessions: string
  /** HASH: `seededAt` (absent = never seeded since Valkey started: reads fall back), `defaultMax`, `defaultMaxVersion`. */
  readonly meta: string
  /** ZSET: seeds in progress (token → expiry ms). While any runs, writes note their mitra as dirty. */
  readonly seeds: string
  /** SET: mitras whose online / deactivated state was written while a seed ran (the seed keeps it). */
  readonly dirtyStatus: string
  /** HASH: mitra → live sessions written while a seed ran (the seed re-applies them). */
  readonly dirtyCapacity: string
  /** SET: mitras that sent a heartbeat while a seed ran (the seed keeps the fresher time). */
  readonly dirtyHeartbeat: string
  /** HASH: mitra id → the `mitras.status_version` of the last status write applied (older ones are ignored). */
  readonly statusVersions: string
  /** STRING: count of the mitra's live sessions. */
  readonly capacity: (mitraId: string) => string
  /** STRING: ISO-8601 UTC time of the mitra's last heartbeat. */
  readonly heartbeat: (mitraId: string) => string
  /** Where a seed stages the sets it is about to swap in (one token per seed run). */
  readonly staging: (token: string) => {
    readonly online: string
    readonly deactivated: string
    readonly maxSessions: string
    /** The new heartbeat index (freshest known time of every online mitra that has one). */
    readonly heartbeatIndex: string
    /** The new free index. */
    readonly freeIndex: string
    /** The new status versions (Postgres's). */
    readonly statusVersions: string
  }
}

/** The per-mitra contract keys' names before the id; the Lua scripts build names from these too. */
export const capacityKeyName = "mitra:capacity:"
export const heartbeatKeyName = "mitra:heartbeat:"

export const mirrorKeys = (prefix: string): MirrorKeys => ({
  prefix,
  online: `${prefix}mitras:online`,
  deactivated: `${prefix}mitras:deactivated`,
  snapshot: `${prefix}availability:snapshot`,
  snapshotLock: `${prefix}availability:snapshot:lock`,
  heartbeatIndex: `${prefix}availability:idx:heartbeat`,
  freeIndex: `${prefix}availability:idx:free`,
  maxSessions: `${prefix}availability:idx:max-sessions`,
  meta: `${prefix}availability:meta`,
  seeds: `${prefix}availability:seed:running`,
  dirtyStatus: `${prefix}availability:seed:dirty-status`,
  dirtyCapacity: `${prefix}availability:seed:dirty-capacity`,
  dirtyHeartbeat: `${prefix}availability:seed:dirty-heartbeat`,
  statusVersions: `${prefix}availability:idx:status-version`,
  capacity: (mitraId) => `${prefix}${capacityKeyName}${mitraId}`,
  heartbeat: (mitraId) => `${prefix}${heartbeatKeyName}${mitraId}`,
  staging: (token) => ({
    online: `${prefix}availability:seed:${token}:online`,
    deactivated: `${prefix}availability:seed:${token}:deactivated`,
    maxSessions: `${prefix}availability:seed:${token}:max-sessions`,
    heartbeatIndex: `${prefix}availability:seed:${token}:idx:heartbeat`,
    freeIndex: `${prefix}availability:seed:${token}:idx:free`,
    statusVersions: `${prefix}availability:seed:${token}:idx:status-version`
  })
})
