/**
 * The policy for a mirror write that fails after its Postgres commit, and the requests for a
 * prompt reseed it makes. Such a failure leaves the mirror wrong — a mitra that went online
 * invisible, a deactivated one still offered — so it is reported (throttled log, counter, span)
 * and asks for a reseed here rather than waiting minutes for the periodic reseed sweep.
 *
 * `MirrorSeeder` takes the request when a seed starts (before it reads Postgres, so a write that
 * fails during a seed asks for another) and puts it back if that seed fails; the catch-up loop
 * (`src/sweeps/MirrorCatchUp.ts`) reseeds within a second of a request while Valkey answers.
 */
import { Effect, Metric, Ref } from "effect"
import { ThrottledLog } from "../observability/ThrottledLog.js"
import type { ValkeyError } from "../valkey/ValkeyError.js"
import { type WriteOperation, writeFailuresBy } from "./AvailabilityMetrics.js"

export class MirrorRepair extends Effect.Service<MirrorRepair>()("mitra/MirrorRepair", {
  effect: Effect.gen(function*() {
    const log = yield* ThrottledLog
    const requested = yield* Ref.make(false)

    /** A Valkey write failed: logged (throttled) and counted, never the request's failure. */
    const reportWriteFailure = (operation: WriteOperation, error: ValkeyError, consequence = "skipped") =>
      Effect.all([
        Metric.increment(writeFailuresBy[operation]),
        Effect.annotateCurrentSpan({ "valkey.write_failed": true }),
        log.warning(`write:${operation}`, `Mirror ${operation}: Valkey write failed and was ${consequence}`, error)
      ], { discard: true })

    return {
      /** Asks for a reseed (a mirror write was lost, or a seed failed). */
      request: Ref.set(requested, true),
      /** Whether a reseed was asked for. */
      isRequested: Ref.get(requested),
      /** Takes the request (at the start of a seed): true if there was one. */
      take: Ref.getAndSet(requested, false),
      reportWriteFailure,
      /** Runs a best-effort mirror write after its Postgres commit: a failure is reported and asks for a reseed. */
      mirrorWrite: (operation: WriteOperation, write: Effect.Effect<void, ValkeyError>) =>
        Effect.catchAll(write, (error) =>
          Effect.zipRight(
            reportWriteFailure(operation, error, "skipped (a reseed is requested to heal the mirror)"),
            Ref.set(requested, true)
          ))
    } as const
  }),
  dependencies: [ThrottledLog.Default]
}) {}
