/**
 * The reseed sweep (ARCHITECTURE.md section 3, `VALKEY_ONLINE_MIRROR_SWEEP_SECONDS`): rebuilds the
 * mirror from Postgres (`MirrorSeeder.reconcile`, the same atomic seed start-up runs) and reports
 * what it healed — members added to and removed from `mitras:online` and `mitras:deactivated`,
 * capacity keys fixed, heartbeat keys written or removed — so drift left by failed best-effort
 * writes never outlives one cadence, and an operator can see that it happened.
 *
 * When Valkey is down the tick aborts (logged); the seeder then owes a seed and runs it as soon as
 * Valkey answers again (`MirrorCatchUp.ts`).
 */
import { Effect } from "effect"
import { driftTotal } from "../availability/mirror/MirrorDrift.js"
import { MirrorSeeder } from "../availability/mirror/MirrorSeeder.js"
import type { SweepTick } from "./Sweep.js"

export class ReseedSweep extends Effect.Service<ReseedSweep>()("mitra/ReseedSweep", {
  effect: Effect.gen(function*() {
    const seeder = yield* MirrorSeeder

    const tick = Effect.fn("ReseedSweep.tick")(function*() {
      const { drift, ...seeded } = yield* seeder.reconcile()
      const counts = {
        online_added: drift.online.added,
        online_removed: drift.online.removed,
        deactivated_added: drift.deactivated.added,
        deactivated_removed: drift.deactivated.removed,
        capacity_fixed: drift.capacityFixed,
        capacity_removed: drift.capacityRemoved,
        heartbeat_written: drift.heartbeatWritten,
        heartbeat_removed: drift.heartbeatRemoved
      }
      const total = driftTotal(drift)
      return {
        outcome: "completed",
        counts,
        summary: total === 0
          ? `mirror matched Postgres (${seeded.mitras} mitras, ${seeded.online} online)`
          : `healed ${total} drifted item(s): online +${counts.online_added}/-${counts.online_removed}, ` +
            `deactivated +${counts.deactivated_added}/-${counts.deactivated_removed}, ` +
            `capacity ${counts.capacity_fixed} fixed / ${counts.capacity_removed} removed, heartbeat ${counts.heartbeat_written} written / ` +
            `${counts.heartbeat_removed} removed (${seeded.mitras} mitras, ${seeded.online} online)`
      } satisfies SweepTick
    })

    return { tick } as const
  }),
  dependencies: [MirrorSeeder.Default]
}) {}
