/**
 * Seeding: the whole mirror rebuilt from Postgres. Runs at start-up (after the session timers are
 * restored, before the listener binds), again on every Valkey `ready` (first connect, reconnect,
 * restart), and whenever the mirror is found unseeded (an empty server after a restart), a seed
 * failed, or a mirror write failed after its Postgres commit (`MirrorRepair`) — checked every
 * second while Valkey is reachable.
 *
 * The store swaps the new state in atomically (readers never see an empty or half-built set) and
 * keeps any Valkey heartbeat fresher than Postgres's (docs/availability.md, "Seeding").
 */
import { Duration, Effect, Layer, Option, Schedule, Stream } from "effect"
import { ValkeyConnection } from "../valkey/ValkeyConnection.js"
import { throttledWarning } from "./AvailabilityMetrics.js"
import { AvailabilitySettings } from "./AvailabilitySettings.js"
import { AvailabilityStore, type SeedInput } from "./AvailabilityStore.js"
import { driftTotal, type MirrorDrift, mirrorDrift } from "./MirrorDrift.js"
import { MirrorRepair } from "./MirrorRepair.js"
import { PostgresAvailability } from "./PostgresAvailability.js"

export interface SeedReport {
  readonly mitras: number
  readonly online: number
  readonly deactivated: number
}

export interface ReconcileReport extends SeedReport {
  readonly drift: MirrorDrift
}

/** How often the mirror is checked for a missing seed while Valkey is reachable. */
const unseededCheckInterval = Duration.seconds(1)

export class MirrorSeeder extends Effect.Service<MirrorSeeder>()("mitra/MirrorSeeder", {
  effect: Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const postgres = yield* PostgresAvailability
    const settings = yield* AvailabilitySettings
    const oneAtATime = yield* Effect.makeSemaphore(1)
    /** Reseed requests: a failed mirror write asks, a failed seed asks again; the next check retries. */
    const repair = yield* MirrorRepair

    /** Rebuilds the mirror from Postgres. */
    const seedFromPostgres = Effect.fn("MirrorSeeder.seedFromPostgres")(function*() {
      const readTruth = Effect.gen(function*() {
        const [mitras, current] = yield* Effect.all([postgres.seedRows, settings.fresh], { concurrency: 2 })
        return {
          mitras,
          defaults: { defaultMaxSessions: current.maxSessionsPerMitra, defaultMaxVersion: current.maxSessionsVersion }
        } satisfies SeedInput
      })
      const run = Effect.gen(function*() {
        // Taken before Postgres is read: a write that fails from here on asks for the next seed.
        yield* repair.take
        const { mitras } = yield* store.replaceAll(readTruth)
        const report: SeedReport = {
          mitras: mitras.length,
          online: mitras.filter((m) => m.isOnline).length,
          deactivated: mitras.filter((m) => !m.isActive).length
        }
        yield* Effect.annotateCurrentSpan({ "seed.mitras": report.mitras, "seed.online": report.online })
        return report
      })
      return yield* oneAtATime.withPermits(1)(run).pipe(Effect.tapError(() => repair.request))
    })

    /**
     * `seedFromPostgres`, reporting the drift it healed (members added / removed per set,
     * capacity and heartbeat keys fixed; `MirrorDrift.ts`): the contract keys are read before and
     * after, and Postgres once more. O(mirror) — for the periodic reseed sweep, not for the
     * start-up or reconnect seeds.
     */
    const reconcile = Effect.fn("MirrorSeeder.reconcile")(function*() {
      const before = yield* store.readState
      const report = yield* seedFromPostgres()
      const [after, truth] = yield* Effect.all([store.readState, postgres.seedRows], { concurrency: 2 })
      const drift = mirrorDrift(before, after, truth)
      yield* Effect.annotateCurrentSpan("seed.drift", driftTotal(drift))
      return { ...report, drift } satisfies ReconcileReport
    })

    /** A seed that logs instead of failing (background triggers). */
    const reseed = (trigger: string) =>
      seedFromPostgres().pipe(
        Effect.tap((report) =>
          Effect.logInfo(`Mirror seeded from Postgres (${trigger}): ${report.mitras} mitras, ${report.online} online`)
        ),
        Effect.catchAll((error) =>
          throttledWarning("seed", `Mirror seed (${trigger}) failed; retrying every second while Valkey is reachable`, error)
        ),
        Effect.asVoid
      )

    /** Whether a seed is owed: one failed, a mirror write was lost, or the mirror says it was never seeded. */
    const seedOwed = Effect.gen(function*() {
      if (yield* repair.isRequested) return true
      return !(yield* store.isSeeded.pipe(Effect.orElseSucceed(() => true)))
    })

    return { seedFromPostgres, reconcile, reseed, seedOwed } as const
  })
}) {}

/**
 * The start-up seed: a failure is logged and left to the background (the service starts degraded,
 * reads falling back to Postgres) rather than stopping start-up while Valkey is down.
 */
export const seedAtStartup = Effect.flatMap(MirrorSeeder, (seeder) => seeder.reseed("start-up"))

/**
 * Background reseeds: on every Valkey `ready`, and whenever a seed is owed while Valkey answers.
 * Nothing to do in in-memory mode (its state lives and dies with the process, seeded at start-up).
 */
export const MirrorReseedLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const connection = yield* ValkeyConnection
    const seeder = yield* MirrorSeeder
    if (Option.isNone(connection.client)) return
    const client = connection.client.value
    yield* client.readyEvents.pipe(
      Stream.runForEach(() => seeder.reseed("Valkey ready")),
      Effect.forkScoped
    )
    const catchUp = Effect.gen(function*() {
      if ((yield* client.isReady) && (yield* seeder.seedOwed)) yield* seeder.reseed("mirror found unseeded or a repair requested")
    })
    yield* catchUp.pipe(Effect.repeat(Schedule.spaced(unseededCheckInterval)), Effect.forkScoped)
  })
)
