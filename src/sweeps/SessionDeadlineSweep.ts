/**
 * The session safety net. Timers in each process apply deadlines on time; this sweep applies the
 * ones no timer did (an instance that crashed, a timer lost to a restart, a failed write) and
 * reroutes live sessions whose mitra left without the reroute completing. Both steps are
 * conditional updates, so racing a timer or another instance changes nothing twice.
 * docs/sessions.md ("Timers") and docs/sweeps.md ("Session deadlines").
 */
import { Effect } from "effect"
import { SessionRerouting } from "../sessions/SessionRerouting.js"
import { SessionTimers } from "../sessions/SessionTimers.js"
import type { SweepTick } from "./Sweep.js"

export class SessionDeadlineSweep extends Effect.Service<SessionDeadlineSweep>()("mitra/SessionDeadlineSweep", {
  effect: Effect.gen(function*() {
    const timers = yield* SessionTimers
    const rerouting = yield* SessionRerouting

    const tick = Effect.fn("SessionDeadlineSweep.tick")(function*() {
      const { applied, due } = yield* timers.sweepDue()
      const rerouted = yield* rerouting.rerouteOrphans()
      return {
        outcome: "completed",
        counts: { deadlines_due: due, deadlines_applied: applied, orphans_rerouted: rerouted },
        summary: `${applied} of ${due} due session deadline(s) applied, ${rerouted} orphaned session(s) rerouted`
      } satisfies SweepTick
    })

    return { tick } as const
  }),
  dependencies: [SessionTimers.Default, SessionRerouting.Default]
}) {}
