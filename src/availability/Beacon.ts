/**
 * The public beacon (`GET /api/availability`): how many mitras can take a customer now, from the
 * snapshot every instance shares (`BeaconCache`, TTL `AVAILABILITY_SNAPSHOT_TTL_SECONDS`).
 *
 * A miss is computed once per instance (single flight) and, while the cache answers, once per
 * cluster: one instance claims the computation, the others wait briefly for its snapshot. When
 * the cache itself fails (Valkey down), a miss goes straight to this instance's last count (kept
 * for the same TTL) or to Postgres — no more Valkey calls that would only fail again — so an
 * outage does not turn every poll into a Postgres count either.
 */
import { Clock, Duration, Effect, Either, Metric, Option, Ref, Schedule } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { Availability } from "./Availability.js"
import { beaconComputations } from "./AvailabilityMetrics.js"
import { BeaconCache } from "./beaconCache/BeaconCache.js"
import { BeaconSnapshot } from "./beaconCache/BeaconSnapshot.js"
import { Fallback } from "./Fallback.js"
import { MirrorRepair } from "./MirrorRepair.js"
import { makeSingleFlight } from "./SingleFlight.js"

/** How long one instance may hold the cluster-wide right to compute the beacon. */
const claimTtl = Duration.seconds(2)
/** How long an instance that lost the claim waits for the winner's snapshot before computing itself. */
const waitForWinner = Duration.millis(500)

export class Beacon extends Effect.Service<Beacon>()("mitra/Beacon", {
  scoped: Effect.gen(function*() {
    const cache = yield* BeaconCache
    const availability = yield* Availability
    const fallback = yield* Fallback
    const repair = yield* MirrorRepair
    const ttl = (yield* AppConfig).availability.snapshotTtl
    const scope = yield* Effect.scope
    const local = yield* Ref.make(Option.none<{ readonly snapshot: BeaconSnapshot; readonly expiresAt: number }>())

    /** A fresh snapshot of `available`, kept locally for one TTL. */
    const keep = (available: number) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        yield* Metric.increment(beaconComputations)
        const snapshot = new BeaconSnapshot({ available, asOf: new Date(now).toISOString() })
        yield* Ref.set(local, Option.some({ snapshot, expiresAt: now + Duration.toMillis(ttl) }))
        return snapshot
      })

    const localCopy = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.map(Ref.get(local), Option.filter((entry) => entry.expiresAt > now)))

    const computeAndShare = Effect.gen(function*() {
      const snapshot = yield* Effect.flatMap(availability.countAvailableMitras(), keep)
      yield* cache.write(snapshot, ttl).pipe(Effect.catchAll((error) => repair.reportWriteFailure("writeSnapshot", error)))
      return snapshot
    })

    const winnersSnapshot = cache.read.pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("not yet" as const), onSome: Effect.succeed })),
      Effect.retry(Schedule.spaced(Duration.millis(10))),
      Effect.timeout(waitForWinner),
      Effect.option
    )

    /** A miss while the cache answers: claimed once per cluster, computed once per instance. */
    const refresh = yield* makeSingleFlight(
      Effect.gen(function*() {
        const claimed = yield* cache.claimComputation(claimTtl).pipe(Effect.orElseSucceed(() => true))
        if (!claimed) {
          const theirs = yield* winnersSnapshot
          if (Option.isSome(theirs)) return theirs.value
        }
        return yield* computeAndShare
      }),
      scope
    )

    /** A miss while the cache fails: Postgres, once per instance. */
    const refreshWithoutCache = yield* makeSingleFlight(
      Effect.flatMap(availability.countAvailableMitrasInPostgres(), keep),
      scope
    )

    const current = Effect.fn("Beacon.current")(function*() {
      const cached = yield* Effect.either(cache.read)
      if (Either.isRight(cached)) {
        return Option.isSome(cached.right) ? cached.right.value : yield* refresh
      }
      yield* fallback.report("countAvailableMitrasFromCache", cached.left)
      const kept = yield* localCopy
      return Option.isSome(kept) ? kept.value.snapshot : yield* refreshWithoutCache
    })

    return { current } as const
  }),
  dependencies: [Availability.Default, Fallback.Default, MirrorRepair.Default]
}) {}
