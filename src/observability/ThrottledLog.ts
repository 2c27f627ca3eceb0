/**
 * Warnings that would otherwise repeat at request rate during an outage (every heartbeat falling
 * back, every mirror write skipped): each key is logged at most once per 10 s, the next line
 * saying how many were suppressed meanwhile. The state is the service instance's, one per process.
 */
import { Clock, Effect } from "effect"

const logEveryMs = 10_000

export class ThrottledLog extends Effect.Service<ThrottledLog>()("mitra/ThrottledLog", {
  sync: () => {
    const entries = new Map<string, { lastAt: number; suppressed: number }>()
    return {
      /** A warning logged at most once per 10 s per `key`, annotated with the key and the error. */
      warning: (key: string, message: string, error: { readonly message: string }) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const entry = entries.get(key)
          if (entry !== undefined && now - entry.lastAt < logEveryMs) {
            entry.suppressed++
            return Effect.void
          }
          entries.set(key, { lastAt: now, suppressed: 0 })
          const suppressed = entry?.suppressed ?? 0
          return Effect.logWarning(suppressed > 0 ? `${message} (${suppressed} more since the last report)` : message).pipe(
            Effect.annotateLogs({ operation: key, error: error.message })
          )
        })
    }
  }
}) {}
