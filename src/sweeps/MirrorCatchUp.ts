/**
 * The mirror catching up with Postgres after Valkey comes back: a reseed on every Valkey `ready`
 * (first connect, reconnect, restart — a restarted server is empty), and a check every second
 * while Valkey answers for a seed that is owed (a seed failed, a mirror write was lost after its
 * commit, or the mirror says it was never seeded). Nothing to do in in-memory mode: that state
 * lives and dies with the process and is seeded at start-up. Takes the seeder from the context:
 * the app gives it the one start-up seeded with (`src/App.ts`).
 */
import { Duration, Effect, Layer, Option, Schedule, Stream } from "effect"
import { MirrorSeeder } from "../availability/mirror/MirrorSeeder.js"
import { ValkeyConnection } from "../valkey/ValkeyConnection.js"

/** How often a seed that is owed is looked for while Valkey is reachable. */
const owedCheckInterval = Duration.seconds(1)

export const MirrorCatchUpLive = Layer.scopedDiscard(
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
    yield* catchUp.pipe(Effect.repeat(Schedule.spaced(owedCheckInterval)), Effect.forkScoped)
  })
)
