/**
 * The whole mirror rebuilt from Postgres, swapped in atomically and never reverting a write newer
 * than its read (docs/availability.md, "Seeding"). Start-up seeds once;
 * `src/sweeps/MirrorCatchUp.ts` reseeds when Valkey comes back or a seed is owed (`seedOwed`); the
 * reseed sweep runs `reconcile`.
 */
import { Effect } from "effect"
import { MitrasRepo } from "../../mitras/MitrasRepo.js"
import { ThrottledLog } from "../../observability/ThrottledLog.js"
import { AvailabilitySettings } from "../../settings/AvailabilitySettings.js"
import { MirrorRepair } from "../MirrorRepair.js"
import { AvailabilityStore, type SeedInput } from "../store/AvailabilityStore.js"
import { MirrorInspector } from "../store/MirrorInspector.js"
import { driftTotal, type MirrorDrift, mirrorDrift } from "./MirrorDrift.js"

export interface SeedReport {
  readonly mitras: number
  readonly online: number
  readonly deactivated: number
}

export interface ReconcileReport extends SeedReport {
  readonly drift: MirrorDrift
}

export class MirrorSeeder extends Effect.Service<MirrorSeeder>()("mitra/MirrorSeeder", {
  effect: Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const inspector = yield* MirrorInspector
    const repo = yield* MitrasRepo
    const settings = yield* AvailabilitySettings
    const log = yield* ThrottledLog
    const oneAtATime = yield* Effect.makeSemaphore(1)
    /** Reseed requests: a failed mirror write asks, a failed seed asks again; the next check retries. */
    const repair = yield* MirrorRepair

    /** Rebuilds the mirror from Postgres. */
    const seedFromPostgres = Effect.fn("MirrorSeeder.seedFromPostgres")(function*() {
      const readTruth = Effect.gen(function*() {
        const [mitras, current] = yield* Effect.all([repo.seedRows, settings.fresh], { concurrency: 2 })
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
      const before = yield* inspector.readState
      const report = yield* seedFromPostgres()
      const [after, truth] = yield* Effect.all([inspector.readState, repo.seedRows], { concurrency: 2 })
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
          log.warning("seed", `Mirror seed (${trigger}) failed; retrying every second while Valkey is reachable`, error)
        ),
        Effect.asVoid
      )

    /** Whether a seed is owed: one failed, a mirror write was lost, or the mirror says it was never seeded. */
    const seedOwed = Effect.gen(function*() {
      if (yield* repair.isRequested) return true
      return !(yield* store.isSeeded.pipe(Effect.orElseSucceed(() => true)))
    })

    return { seedFromPostgres, reconcile, reseed, seedOwed } as const
  }),
  dependencies: [MitrasRepo.Default, AvailabilitySettings.Default, MirrorRepair.Default, ThrottledLog.Default]
}) {}
