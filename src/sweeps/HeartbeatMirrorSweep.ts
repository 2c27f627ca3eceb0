/**
 * The heartbeat mirror (ARCHITECTURE.md section 3, `HEARTBEAT_MIRROR_INTERVAL_SECONDS`): copies the
 * mirror's heartbeat times of online mitras into `mitra_online_status.last_heartbeat_at`, so the
 * Postgres fallback (and a later reseed) sees live mitras as live.
 *
 * The copy is `Heartbeat.copyHeartbeatsToPostgres`: one read of the mirror and exactly one SQL
 * statement however many mitras are online (an `UPDATE … FROM unnest(ids, times)` that only moves
 * a time forward), so it is idempotent and safe on every instance at once.
 *
 * When Valkey is down the cycle is skipped (logged): there is nothing to copy, and Postgres
 * already receives the heartbeats itself meanwhile (the heartbeat route's database path). In
 * in-memory mode it runs as well: the process's memory is then the only place heartbeats live,
 * and copying them keeps Postgres's view current — for the control center's SQL, and for the
 * seed after a restart, which would otherwise find every mitra stale.
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
