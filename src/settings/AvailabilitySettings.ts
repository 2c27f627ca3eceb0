/**
 * The two settings every availability read needs (`max_sessions_per_mitra`,
 * `heartbeat_stale_seconds`), cached in this process for a few seconds: the beacon and the pairing
 * blast must not read `app_config` from Postgres on every call, or the mirror would not take the
 * load off the database. A change made in the control center is seen within the cache TTL.
 *
 * The version of `max_sessions_per_mitra` (its `updated_at`) travels with it, so a Valkey mirror
 * shared by instances whose caches disagree for a moment follows the newest value.
 */
import { Clock, Duration, Effect, Option, Ref } from "effect"
import type { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { AppConfigRepo } from "./AppConfigRepo.js"
import { decodeSettingOrDefault, defaultSettings } from "./SettingKeys.js"

export interface AvailabilitySettingsValue {
  readonly maxSessionsPerMitra: number
  readonly heartbeatStaleSeconds: number
  /** `app_config.updated_at` of `max_sessions_per_mitra` in epoch microseconds (0 when unset). */
  readonly maxSessionsVersion: number
}

export interface AvailabilitySettingsShape {
  /** The cached value (refreshed when older than the TTL; the last known value if Postgres fails). */
  readonly current: Effect.Effect<AvailabilitySettingsValue>
  /** Straight from Postgres, refreshing the cache (the seed uses it). */
  readonly fresh: Effect.Effect<AvailabilitySettingsValue, DatabaseUnavailable>
}

/** How long an instance serves its cached value before reading Postgres again. */
const cacheTtl = Duration.seconds(5)

export class AvailabilitySettings extends Effect.Service<AvailabilitySettings>()("mitra/AvailabilitySettings", {
  effect: Effect.gen(function*() {
    const repo = yield* AppConfigRepo
    const ttlMillis = Duration.toMillis(cacheTtl)
    const cache = yield* Ref.make(Option.none<{ readonly value: AvailabilitySettingsValue; readonly at: number }>())
    const refreshing = yield* Effect.makeSemaphore(1)

    const fresh = Effect.gen(function*() {
      const rows = yield* repo.versioned(["max_sessions_per_mitra", "heartbeat_stale_seconds"])
      const row = (key: string) => rows.find((r) => r.key === key)
      const value: AvailabilitySettingsValue = {
        maxSessionsPerMitra: yield* decodeSettingOrDefault("max_sessions_per_mitra", row("max_sessions_per_mitra")?.value),
        heartbeatStaleSeconds: yield* decodeSettingOrDefault("heartbeat_stale_seconds", row("heartbeat_stale_seconds")?.value),
        maxSessionsVersion: row("max_sessions_per_mitra")?.version ?? 0
      }
      yield* Ref.set(cache, Option.some({ value, at: yield* Clock.currentTimeMillis }))
      return value
    })

    const isFresh = (now: number) => (entry: { readonly at: number }) => now - entry.at < ttlMillis

    const current = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const cached = Option.filter(yield* Ref.get(cache), isFresh(now))
      if (Option.isSome(cached)) return cached.value.value
      // One refresh at a time; the others wait and read what it stored.
      return yield* refreshing.withPermits(1)(Effect.gen(function*() {
        const again = Option.filter(yield* Ref.get(cache), isFresh(yield* Clock.currentTimeMillis))
        if (Option.isSome(again)) return again.value.value
        return yield* fresh.pipe(
          Effect.catchAll((error) =>
            Effect.gen(function*() {
              yield* Effect.logWarning("Availability settings: Postgres unavailable, using the last known values", error)
              const value = Option.match(yield* Ref.get(cache), {
                onSome: (entry) => entry.value,
                onNone: (): AvailabilitySettingsValue => ({
                  maxSessionsPerMitra: defaultSettings.max_sessions_per_mitra,
                  heartbeatStaleSeconds: defaultSettings.heartbeat_stale_seconds,
                  maxSessionsVersion: 0
                })
              })
              // Kept for another TTL: during an outage Postgres is retried once per TTL, not per read.
              yield* Ref.set(cache, Option.some({ value, at: yield* Clock.currentTimeMillis }))
              return value
            })
          )
        )
      }))
    })

    return { current, fresh } satisfies AvailabilitySettingsShape
  }),
  dependencies: [AppConfigRepo.Default]
}) {}
