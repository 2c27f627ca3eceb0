/**
 * The control center's counts: mitras online and available from the mirror (Postgres when it
 * fails), sessions from Postgres (sessions have no mirror), and the state of Valkey itself.
 */
import { Effect } from "effect"
import { Availability } from "../availability/Availability.js"
import { ChatSessionsRepo } from "../sessions/ChatSessionsRepo.js"
import { ValkeyConnection } from "../valkey/ValkeyConnection.js"
import { DashboardCounts } from "./DashboardCounts.js"

export class Dashboard extends Effect.Service<Dashboard>()("mitra/Dashboard", {
  effect: Effect.gen(function*() {
    const availability = yield* Availability
    const sessions = yield* ChatSessionsRepo
    const valkey = yield* ValkeyConnection

    const counts = Effect.fn("Dashboard.counts")(function*() {
      const [online, available, open, state] = yield* Effect.all(
        [availability.countOnlineMitras(), availability.countAvailableMitras(), sessions.openCounts, valkey.state],
        { concurrency: "unbounded" }
      )
      return new DashboardCounts({ online, available, ...open, valkey: state })
    })

    return { counts } as const
  }),
  dependencies: [Availability.Default, ChatSessionsRepo.Default]
}) {}
