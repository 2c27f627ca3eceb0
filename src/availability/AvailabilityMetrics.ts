/**
 * What the mirror counts (exposed on `/metrics`) and the two reporting helpers every service uses:
 * a read that fell back to Postgres, and a best-effort Valkey write that failed. Both are logged
 * (at most once per 10 s per operation, with the number suppressed, so an outage does not flood
 * the log at heartbeat rate), counted, and marked on the current span.
 */
import { Clock, Effect, Metric } from "effect"
import type { ValkeyError } from "../valkey/ValkeyError.js"
import type { MirrorRepair } from "./MirrorRepair.js"

export const availabilityFallbacks = Metric.counter("availability_fallback_total", {
  description: "Availability operations answered by Postgres because the Valkey mirror failed",
  incremental: true
})

export const valkeyWriteFailures = Metric.counter("valkey_write_failures_total", {
  description: "Best-effort writes to Valkey that failed (a mirror write after its Postgres commit asks for a prompt reseed)",
  incremental: true
})

export const beaconComputations = Metric.counter("availability_beacon_computations_total", {
  description: "Beacon counts computed on a snapshot miss (the rest are served from the shared snapshot)",
  incremental: true
})

export const heartbeats = Metric.counter("mitra_heartbeats_total", {
  description: "Heartbeats by outcome and by the path that recorded them",
  incremental: true
})

/** Tagged counters are made once per label set: `Metric.tagged` allocates, and heartbeats are hot. */
const tagged = new Map<string, Metric.Metric.Counter<number>>()
const counterFor = (metric: Metric.Metric.Counter<number>, key: string, tags: ReadonlyArray<readonly [string, string]>) => {
  let counter = tagged.get(key)
  if (counter === undefined) {
    counter = tags.reduce((m, [k, v]) => Metric.tagged(m, k, v), metric)
    tagged.set(key, counter)
  }
  return counter
}

export const countHeartbeat = (outcome: string, path: "valkey" | "memory" | "postgres") =>
  Metric.increment(counterFor(heartbeats, `heartbeat|${outcome}|${path}`, [["outcome", outcome], ["path", path]]))

export const countBeaconComputation = Metric.increment(beaconComputations)

const logThrottle = new Map<string, { lastAt: number; suppressed: number }>()
const logEveryMs = 10_000

/** A warning logged at most once per 10 s per `key`, with how many were suppressed since. */
export const throttledWarning = (key: string, message: string, error: { readonly message: string }) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const entry = logThrottle.get(key)
    if (entry !== undefined && now - entry.lastAt < logEveryMs) {
      entry.suppressed++
      return Effect.void
    }
    const suppressed = entry?.suppressed ?? 0
    logThrottle.set(key, { lastAt: now, suppressed: 0 })
    return Effect.logWarning(suppressed > 0 ? `${message} (${suppressed} more since the last report)` : message).pipe(
      Effect.annotateLogs({ operation: key, error: error.message })
    )
  })

/** A Valkey read failed and Postgres answers instead. */
export const reportFallback = (operation: string, error: ValkeyError) =>
  Effect.all([
    Metric.increment(counterFor(availabilityFallbacks, `fallback|${operation}`, [["operation", operation]])),
    Effect.annotateCurrentSpan({ "availability.fallback": true, "availability.fallback.reason": error.message }),
    throttledWarning(`fallback:${operation}`, `Availability ${operation}: Valkey failed, answering from Postgres`, error)
  ], { discard: true })

/** A Valkey write (after its Postgres commit, if any) failed: logged and counted, never the request's failure. */
export const reportWriteFailure = (operation: string, error: ValkeyError, consequence = "skipped") =>
  Effect.all([
    Metric.increment(counterFor(valkeyWriteFailures, `write|${operation}`, [["operation", operation]])),
    Effect.annotateCurrentSpan({ "valkey.write_failed": true }),
    throttledWarning(`write:${operation}`, `Mirror ${operation}: Valkey write failed and was ${consequence}`, error)
  ], { discard: true })

/**
 * Runs a best-effort mirror write after its Postgres commit. A failure is reported and asks
 * `repair` for a prompt reseed (`MirrorRepair`): the mirror is wrong until then (a mitra that
 * went online unseen, a deactivated one still listed), and the periodic reseed is minutes away.
 */
export const mirrorWrite = <E extends ValkeyError>(repair: MirrorRepair, operation: string, write: Effect.Effect<void, E>) =>
  Effect.catchAll(write, (error) =>
    Effect.zipRight(reportWriteFailure(operation, error, "skipped (a reseed is requested to heal the mirror)"), repair.request))

/** Reads a counter's current value (for tests and reports). */
export const counterValue = (metric: Metric.Metric.Counter<number>, tags: Record<string, string> = {}) =>
  Effect.map(Metric.value(Object.entries(tags).reduce((m, [k, v]) => Metric.tagged(m, k, v), metric)), (s) => s.count)
