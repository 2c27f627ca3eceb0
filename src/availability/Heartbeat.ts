/**
 * Heartbeats, the hottest path of the service (every online mitra, every ~20 s): one Valkey round
 * trip while the mirror is up, the full database check and write when it is not. A heartbeat
 * never brings a mitra online (docs/availability.md, "Heartbeats and the guard").
 */
import { Clock, Effect, Metric, Option } from "effect"
import { Forbidden, mitraDeactivated } from "../auth/AuthErrors.js"
import { withSpanWhenTraced } from "../observability/Spans.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { ValkeyError } from "../valkey/ValkeyError.js"
import { type HeartbeatPath, heartbeatsBy } from "./AvailabilityMetrics.js"
import { Fallback } from "./Fallback.js"
import { AvailabilityStore, type HeartbeatOutcome } from "./store/AvailabilityStore.js"

const unknownMitra = new Forbidden({ message: "This mitra account does not exist" })
const notSeeded = new ValkeyError({ message: "The availability mirror has not been seeded since Valkey started" })

const count = (outcome: HeartbeatOutcome, path: HeartbeatPath) =>
  outcome === "unseeded" ? Effect.void : Metric.increment(heartbeatsBy[outcome][path])

export class Heartbeat extends Effect.Service<Heartbeat>()("mitra/Heartbeat", {
  effect: Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const repo = yield* MitrasRepo
    const fallback = yield* Fallback
    const mirrorPath: HeartbeatPath = store.kind === "memory" ? "memory" : "valkey"

    /** The database path: exists + active, then the write (only while online), in one statement. */
    const recordInPostgres = (mitraId: string, at: Date) =>
      repo.recordHeartbeat({ mitraId, at }).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(unknownMitra),
          onSome: (row): Effect.Effect<HeartbeatOutcome> =>
            Effect.succeed(!row.isActive ? "deactivated" : row.recorded ? "recorded" : "not_online")
        }))
      )

    /** The database path after the mirror failed (or was not seeded): reported, then written in Postgres. */
    const viaPostgres = (mitraId: string, at: Date, error: ValkeyError) =>
      fallback.report("heartbeat", error).pipe(
        Effect.zipRight(recordInPostgres(mitraId, at)),
        Effect.tap((outcome) => count(outcome, "postgres"))
      )

    /**
     * Records a heartbeat of `mitraId` (already authenticated by its token). 403 when deactivated.
     * Written as few steps as it takes, and its span opened only while tracing is on: at thousands
     * of heartbeats a second each step shows (docs/performance.md, "The hot path").
     */
    const record = (mitraId: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (millis) => {
        const at = new Date(millis)
        return store.recordHeartbeat(mitraId, at).pipe(
          Effect.matchEffect({
            onFailure: (error) => viaPostgres(mitraId, at, error),
            onSuccess: (outcome) =>
              outcome === "unseeded" ? viaPostgres(mitraId, at, notSeeded) : Effect.as(count(outcome, mirrorPath), outcome)
          }),
          Effect.flatMap((outcome) => outcome === "deactivated" ? Effect.fail(mitraDeactivated) : Effect.succeed(outcome))
        )
      }).pipe(withSpanWhenTraced("Heartbeat.record"))

    /**
     * Copies the mirror's heartbeat times into `last_heartbeat_at` in one batched statement,
     * never moving a time backwards (idempotent across instances). The heartbeat-mirror sweep runs
     * it on its schedule, so the Postgres fallback sees live mitras during a later Valkey outage.
     * Returns how many online heartbeats the mirror held and how many rows moved forward.
     */
    const copyHeartbeatsToPostgres = Effect.fn("Heartbeat.copyHeartbeatsToPostgres")(function*() {
      const heartbeats = yield* store.onlineHeartbeats
      if (heartbeats.length === 0) return { online: 0, written: 0 }
      const rows = yield* repo.copyHeartbeats({ mitraIds: heartbeats.map((h) => h.mitraId), times: heartbeats.map((h) => h.at) })
      yield* Effect.annotateCurrentSpan({ "heartbeats.online": heartbeats.length, "heartbeats.copied": rows.length })
      return { online: heartbeats.length, written: rows.length }
    })

    return { record, copyHeartbeatsToPostgres } as const
  }),
  dependencies: [MitrasRepo.Default, Fallback.Default]
}) {}
