/**
 * The heartbeat mirror: the mirror's heartbeat times copied into `last_heartbeat_at`, so the
 * Postgres fallback (and a seed after a restart) sees live mitras as live. Skipped while Valkey is
 * down, when the heartbeat route writes Postgres itself (docs/sweeps.md, "Heartbeat mirror").
 */
import { Effect } from "effect"
import { Heartbeat } from "../availability/Heartbeat.js"
import type { SweepTick } from "./Sweep.js"

export class HeartbeatMirrorSweep extends Effect.Service<HeartbeatMirrorSweep>()("mitra/HeartbeatMirrorSweep", {
  effect: Effect.gen(function*() {
    const heartbeat = yield* Heartbeat

    /** One copy; a Valkey failure skips the cycle, a Postgres failure aborts it. */
    const tick = Effect.fn("HeartbeatMirrorSweep.tick")(function*() {
      return yield* heartbeat.copyHeartbeatsToPostgres().pipe(
        Effect.map(({ online, written }): SweepTick => ({
          outcome: "completed",
          counts: { online, written },
          summary: `${written} of ${online} online heartbeat(s) moved forward in Postgres`
        })),
        Effect.catchTag("ValkeyError", (error) =>
          Effect.succeed<SweepTick>({
            outcome: "skipped",
            counts: { online: 0, written: 0 },
            summary: `Valkey unavailable, nothing copied this cycle (${error.message})`
          }))
      )
    })

    return { tick } as const
  }),
  dependencies: [Heartbeat.Default]
}) {}
