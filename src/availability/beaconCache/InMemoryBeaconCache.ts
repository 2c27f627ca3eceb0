/** The beacon cache in this process's memory (one-instance mode and tests), expiring by `Clock`. */
import { Clock, Duration, Effect, Option } from "effect"
import type { BeaconCacheShape } from "./BeaconCache.js"
import type { BeaconSnapshot } from "./BeaconSnapshot.js"

export const makeInMemoryBeaconCache = (): BeaconCacheShape => {
  let snapshot = Option.none<{ readonly value: BeaconSnapshot; readonly expiresAt: number }>()
  let claimedUntil = 0
  return {
    read: Effect.map(Clock.currentTimeMillis, (now) =>
      Option.filter(snapshot, (s) => s.expiresAt > now).pipe(Option.map((s) => s.value))),
    write: (value, ttl) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        snapshot = Option.some({ value, expiresAt: now + Duration.toMillis(ttl) })
      }),
    claimComputation: (ttl) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        if (claimedUntil > now) return false
        claimedUntil = now + Duration.toMillis(ttl)
        return true
      })
  }
}
