/**
 * Rate-limit counters in this process's memory: the store of in-memory mode and the fallback while
 * Valkey fails. Time comes from `Clock` (so tests drive windows with `TestClock`). Memory is
 * bounded: an ended window is dropped when its key is next counted, and when the map is full the
 * ended windows are swept out and, if that is not enough, the oldest windows are dropped (the
 * limit forgets what it counted longest ago rather than growing without bound).
 */
import { Clock, Duration, Effect } from "effect"
import type { RateLimitStore } from "./RateLimitStore.js"

/** About 150 bytes a window (a 60-character key and two numbers): 50k windows stay under ~10 MB. */
export const defaultMaxEntries = 50_000

interface Window {
  count: number
  readonly endsAt: number
}

export const makeInMemoryRateLimitStore = (options: { readonly maxEntries?: number } = {}): RateLimitStore<never> & {
  /** Windows held right now (ended ones included until swept): for tests. */
  readonly size: Effect.Effect<number>
} => {
  const maxEntries = options.maxEntries ?? defaultMaxEntries
  const windows = new Map<string, Window>()

  const makeRoom = (now: number) => {
    for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key)
    // Map iteration follows insertion order, and a window is inserted when it opens: oldest first.
    for (const key of windows.keys()) {
      if (windows.size < maxEntries) break
      windows.delete(key)
    }
  }

  const hit = (key: string, window: Duration.Duration) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      let current = windows.get(key)
      if (current !== undefined && current.endsAt <= now) {
        windows.delete(key)
        current = undefined
      }
      if (current === undefined) {
        if (windows.size >= maxEntries) makeRoom(now)
        current = { count: 0, endsAt: now + Duration.toMillis(window) }
        windows.set(key, current)
      }
      current.count++
      return { count: current.count, resetsInMillis: current.endsAt - now }
    })

  const takeBack = (key: string) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const current = windows.get(key)
      if (current !== undefined && current.endsAt > now && current.count > 0) current.count--
    })

  const clear = (key: string) => Effect.sync(() => void windows.delete(key))

  return { hit, takeBack, clear, size: Effect.sync(() => windows.size) }
}
