/**
 * The public beacon (`GET /api/availability`): how many mitras can take a customer now, from the
 * snapshot every instance shares (`BeaconCache`, TTL `AVAILABILITY_SNAPSHOT_TTL_SECONDS`).
 *
 * Each instance keeps the last snapshot it computed or read in memory, and answers from it until
 * `asOf` + TTL with no Valkey round trip (`fresh` peeks at it without running an effect, for the
 * fast route). A miss is computed once per instance (single flight) and, while the cache
 * answers, once per cluster: one instance claims the computation, the others wait briefly for its
 * snapshot. When the cache itself fails (Valkey down), a miss goes straight to Postgres — no more
 * Valkey calls that would only fail again — and its count is kept for the TTL too, so an outage
 * does not turn every poll into a Postgres count either.
 */
import { Duration, Effect, Either, Metric, Option, Schedule } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { Availability } from "./Availability.js"
import { beaconComputations } from "./AvailabilityMetrics.js"
import { BeaconCache } from "./beaconCache/BeaconCache.js"
import { BeaconSnapshot } from "./beaconCache/BeaconSnapshot.js"
import { Fallback } from "./Fallback.js"
import { MirrorRepair } from "./MirrorRepair.js"
import { makeSingleFlight } from "./SingleFlight.js"

/**
 * How long one instance may hold the cluster-wide right to compute the beacon: at most the
 * snapshot's own TTL, or the next miss after a short TTL would find the claim still held (by the
 * very instance that computed the last snapshot) and wait for a snapshot nobody computes.
 */
const longestClaim = Duration.seconds(2)
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
    const clock = yield* Effect.clock
    const ttlMillis = Duration.toMillis(ttl)
    const claimTtl = Duration.min(longestClaim, ttl)
    /** The snapshot this instance answers with until `expiresAt`. Plain state: `fresh` reads it synchronously. */
    let kept: { readonly snapshot: BeaconSnapshot; readonly expiresAt: number } | undefined

    /** Keeps `snapshot` until its `asOf` + TTL (never longer than a TTL from now, whatever another instance's clock said). */
    const keep = (snapshot: BeaconSnapshot) => {
      const now = clock.unsafeCurrentTimeMillis()
      const asOf = Date.parse(snapshot.asOf)
      kept = { snapshot, expiresAt: Math.min(Number.isNaN(asOf) ? now : asOf, now) + ttlMillis }
      return snapshot
    }

    /** The kept snapshot while it is fresh. */
    const fresh = (): BeaconSnapshot | undefined =>
      kept !== undefined && kept.expiresAt > clock.unsafeCurrentTimeMillis() ? kept.snapshot : undefined

    /** A fresh snapshot of `available`, computed here now. */
    const computed = (available: number) =>
      Effect.sync(() => keep(new BeaconSnapshot({ available, asOf: new Date(clock.unsafeCurrentTimeMillis()).toISOString() }))).pipe(
        Effect.zipLeft(Metric.increment(beaconComputations))
      )

    const computeAndShare = Effect.gen(function*() {
      const snapshot = yield* Effect.flatMap(availability.countAvailableMitras(), computed)
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
          if (Option.isSome(theirs)) return keep(theirs.value)
        }
        return yield* computeAndShare
      }),
      scope
    )

    /** A miss while the cache fails: Postgres, once per instance. */
    const refreshWithoutCache = yield* makeSingleFlight(
      Effect.flatMap(availability.countAvailableMitrasInPostgres(), computed),
      scope
    )

    const current = Effect.fn("Beacon.current")(function*() {
      const local = fresh()
      if (local !== undefined) return local
      const cached = yield* Effect.either(cache.read)
      if (Either.isRight(cached)) {
        return Option.isSome(cached.right) ? keep(cached.right.value) : yield* refresh
      }
      yield* fallback.report("countAvailableMitrasFromCache", cached.left)
      return yield* refreshWithoutCache
    })

    return { current, fresh } as const
  }),
  dependencies: [Availability.Default, Fallback.Default, MirrorRepair.Default]
}) {}
