/**
 * The availability reads: Valkey (or the in-memory store) first, Postgres when the mirror fails.
 * Both paths get the same `AvailabilityQuery` — one clock reading, one settings value — so they
 * answer the same question; each fallback is logged, counted and marked on the span
 * (`availability.source`).
 */
import { Clock, Duration, Effect, Either, Option, Ref, Schedule } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import type { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import type { ValkeyError } from "../valkey/ValkeyError.js"
import { countBeaconComputation, reportFallback, reportWriteFailure } from "./AvailabilityMetrics.js"
import { AvailabilitySettings } from "./AvailabilitySettings.js"
import { type AvailabilityQuery, AvailabilityStore, BeaconSnapshot } from "./AvailabilityStore.js"
import { PostgresAvailability } from "./PostgresAvailability.js"
import { makeSingleFlight } from "./SingleFlight.js"

/** How long one instance may hold the cluster-wide right to compute the beacon. */
const beaconClaimTtl = Duration.seconds(2)
/** How long an instance that lost the claim waits for the winner's snapshot before computing itself. */
const beaconWaitForWinner = Duration.millis(500)

export interface DashboardCounts {
  readonly online: number
  readonly available: number
  readonly liveSessions: number
  readonly searching: number
}

export class Availability extends Effect.Service<Availability>()("mitra/Availability", {
  scoped: Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const postgres = yield* PostgresAvailability
    const settings = yield* AvailabilitySettings
    const snapshotTtl = (yield* AppConfig).availability.snapshotTtl
    const scope = yield* Effect.scope

    /** Now, as both paths will judge it. */
    const currentQuery = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const value = yield* settings.current
      return {
        freshSince: new Date(now - value.heartbeatStaleSeconds * 1000),
        defaultMaxSessions: value.maxSessionsPerMitra,
        defaultMaxVersion: value.maxSessionsVersion
      } satisfies AvailabilityQuery
    })

    const withFallback = <A>(
      operation: string,
      fromMirror: Effect.Effect<A, ValkeyError>,
      fromPostgres: Effect.Effect<A, DatabaseUnavailable>
    ) =>
      fromMirror.pipe(
        Effect.tap(() => Effect.annotateCurrentSpan("availability.source", store.kind)),
        Effect.tapError((error) => reportFallback(operation, error)),
        Effect.orElse(() => Effect.tap(fromPostgres, () => Effect.annotateCurrentSpan("availability.source", "postgres")))
      )

    /** Online, not deactivated, heartbeat fresh (capacity aside: a busy mitra is still reachable). */
    const isMitraReachable = Effect.fn("Availability.isMitraReachable")(function*(mitraId: string) {
      yield* Effect.annotateCurrentSpan("mitra.id", mitraId)
      const { freshSince } = yield* currentQuery
      return yield* withFallback("isMitraReachable", store.isReachable(mitraId, freshSince), postgres.isReachable(mitraId, freshSince))
    })

    /** Every mitra that can take a customer now: online, active, fresh, below capacity. No order. */
    const findAvailableMitras = Effect.fn("Availability.findAvailableMitras")(function*() {
      const query = yield* currentQuery
      const ids = yield* withFallback("findAvailableMitras", store.findAvailable(query), postgres.findAvailable(query))
      yield* Effect.annotateCurrentSpan("availability.count", ids.length)
      return ids
    })

    /** The beacon's number, computed now (no snapshot). */
    const countAvailableMitras = Effect.fn("Availability.countAvailableMitras")(function*() {
      const query = yield* currentQuery
      return yield* withFallback("countAvailableMitras", store.countAvailable(query), postgres.countAvailable(query))
    })

    /** SCARD mitras:online. */
    const countOnlineMitras = Effect.fn("Availability.countOnlineMitras")(function*() {
      return yield* withFallback("countOnlineMitras", store.countOnline, postgres.countOnline)
    })

    // The beacon. A snapshot miss is computed once per instance (single flight) and, when the
    // store can arbitrate, once per cluster: one instance claims the computation, the others wait
    // briefly for its snapshot. While the store is down, the last result is kept in memory for
    // the same TTL so an outage does not turn every beacon poll into a Postgres count.
    const localSnapshot = yield* Ref.make(Option.none<{ readonly snapshot: BeaconSnapshot; readonly expiresAt: number }>())

    const compute = Effect.gen(function*() {
      const available = yield* countAvailableMitras()
      const now = yield* Clock.currentTimeMillis
      yield* countBeaconComputation
      const snapshot = new BeaconSnapshot({ available, asOf: new Date(now).toISOString() })
      yield* Ref.set(localSnapshot, Option.some({ snapshot, expiresAt: now + Duration.toMillis(snapshotTtl) }))
      yield* store.writeSnapshot(snapshot, snapshotTtl).pipe(
        Effect.catchAll((error) => reportWriteFailure("writeSnapshot", error))
      )
      return snapshot
    })

    const winnersSnapshot = store.readSnapshot.pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("not yet" as const), onSome: Effect.succeed })),
      Effect.retry(Schedule.spaced(Duration.millis(10))),
      Effect.timeout(beaconWaitForWinner),
      Effect.option
    )

    const refresh = yield* makeSingleFlight(
      Effect.gen(function*() {
        const claimed = yield* store.claimSnapshotComputation(beaconClaimTtl).pipe(Effect.orElseSucceed(() => true))
        if (!claimed) {
          const theirs = yield* winnersSnapshot
          if (Option.isSome(theirs)) return theirs.value
        }
        return yield* compute
      }),
      scope
    )

    const countAvailableMitrasFromCache = Effect.fn("Availability.countAvailableMitrasFromCache")(function*() {
      const cached = yield* Effect.either(store.readSnapshot)
      if (Either.isRight(cached)) {
        yield* Effect.annotateCurrentSpan("availability.source", store.kind)
        return Option.isSome(cached.right) ? cached.right.value : yield* refresh
      }
      yield* reportFallback("countAvailableMitrasFromCache", cached.left)
      yield* Effect.annotateCurrentSpan("availability.source", "postgres")
      const now = yield* Clock.currentTimeMillis
      const local = Option.filter(yield* Ref.get(localSnapshot), (s) => s.expiresAt > now)
      return Option.isSome(local) ? local.value.snapshot : yield* refresh
    })

    /** The control center's counts: mirror-first for mitras, Postgres for sessions. */
    const dashboardCounts = Effect.fn("Availability.dashboardCounts")(function*() {
      const [online, available, sessions] = yield* Effect.all(
        [countOnlineMitras(), countAvailableMitras(), postgres.sessionCounts],
        { concurrency: "unbounded" }
      )
      return { online, available, ...sessions } satisfies DashboardCounts
    })

    return {
      isMitraReachable,
      findAvailableMitras,
      countAvailableMitras,
      countAvailableMitrasFromCache,
      countOnlineMitras,
      dashboardCounts
    } as const
  })
}) {}
