/**
 * Where rate-limit counters live: Valkey (shared by every instance) or this process's memory (in
 * memory mode, and as the fallback while Valkey fails). Each counter is a fixed window: the first
 * event of a key opens a window of the given length, every event in it adds one, and the key is
 * forgotten when the window ends.
 */
import type { Duration, Effect } from "effect"
import type { ValkeyError } from "../valkey/ValkeyError.js"

export interface WindowCount {
  /** Events counted in the current window, this one included. */
  readonly count: number
  /** Milliseconds until the window ends and the count starts again from zero. */
  readonly resetsInMillis: number
}

export interface RateLimitStore<E = ValkeyError> {
  /** Counts one event for `key` (opening a window of `window` if none is open). One round trip. */
  readonly hit: (key: string, window: Duration.Duration) => Effect.Effect<WindowCount, E>
  /** Takes one event back (never below zero, never reopening an ended window). */
  readonly takeBack: (key: string) => Effect.Effect<void, E>
  /** Forgets `key`'s window altogether. */
  readonly clear: (key: string) => Effect.Effect<void, E>
}
