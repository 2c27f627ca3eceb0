/**
 * What happens when Valkey dies — every availability path, in one place:
 *
 * - reads (`Availability`, the beacon) fall back to the same question asked of Postgres
 *   (`read` here), each fallback logged (throttled), counted in `availability_fallback_total` and
 *   marked on its span (`availability.source: postgres`); the beacon also keeps its last count in
 *   memory for one TTL so an outage does not turn every poll into a Postgres count;
 * - the heartbeat takes its database path (`Heartbeat`): the full active check, and
 *   `last_heartbeat_at` written in Postgres, so the fallback reads still see the mitra as live;
 * - writes after a Postgres commit are skipped, counted, and ask for a prompt reseed
 *   (`MirrorRepair.mirrorWrite`); the request never fails;
 * - the sweeps: auto-offline aborts its tick (never a Postgres mass-offline), the heartbeat mirror
 *   skips, the reseed aborts and is owed; when Valkey answers again (`ready`) the mirror is
 *   reseeded from Postgres (`src/sweeps/MirrorCatchUp.ts`) before it serves reads again — until
 *   then it says NOTSEEDED and every read keeps falling back.
 *
 * A restarted, empty Valkey is the same as a dead one until its reseed lands: reads refuse with
 * NOTSEEDED and fall back, the heartbeat script answers `unseeded` and takes the database path.
 */
import { Effect, Metric } from "effect"
import { ThrottledLog } from "../observability/ThrottledLog.js"
import type { ValkeyError } from "../valkey/ValkeyError.js"
import { type FallbackOperation, fallbacksBy } from "./AvailabilityMetrics.js"
import { AvailabilityStore } from "./store/AvailabilityStore.js"

export class Fallback extends Effect.Service<Fallback>()("mitra/availability/Fallback", {
  effect: Effect.gen(function*() {
    const log = yield* ThrottledLog
    const store = yield* AvailabilityStore

    /** A mirror read failed and Postgres answers instead: logged (throttled), counted, on the span. */
    const report = (operation: FallbackOperation, error: ValkeyError) =>
      Effect.all([
        Metric.increment(fallbacksBy[operation]),
        Effect.annotateCurrentSpan({ "availability.fallback": true, "availability.fallback.reason": error.message }),
        log.warning(`fallback:${operation}`, `Availability ${operation}: Valkey failed, answering from Postgres`, error)
      ], { discard: true })

    /** The mirror's answer, or Postgres's when the mirror fails; the span says which. */
    const read = <A, E>(
      operation: FallbackOperation,
      fromMirror: Effect.Effect<A, ValkeyError>,
      fromPostgres: Effect.Effect<A, E>
    ): Effect.Effect<A, E> =>
      fromMirror.pipe(
        Effect.tap(() => Effect.annotateCurrentSpan("availability.source", store.kind)),
        Effect.tapError((error) => report(operation, error)),
        Effect.orElse(() => Effect.tap(fromPostgres, () => Effect.annotateCurrentSpan("availability.source", "postgres")))
      )

    return { read, report } as const
  }),
  dependencies: [ThrottledLog.Default]
}) {}
