/**
 * What happens to a mitra's sessions when the mitra stops being able to serve them — deactivated
 * by an operator (`MitraAccounts.setActive`), taken offline by the auto-offline sweep for a stale
 * heartbeat (`AutoOfflineSweep`), or going offline by hand (the mitra app's offline route). Called
 * after the mitra's own change has committed and been mirrored, by whoever made it.
 *
 * In one transaction: every open offer to the mitra is withdrawn (`mitra_unavailable`), and each
 * of its live sessions closes as `rerouted` with a `searching` successor (`rerouted_from`) that
 * carries the customer on. Then each successor is blasted to the available mitras — never the one
 * that left — and the whole change is announced, so the customer's stream follows the hop.
 */
import { Clock, Effect, Option } from "effect"
import { Availability } from "../availability/Availability.js"
import { Transactions } from "../db/Repository.js"
import { AppSettings } from "../settings/AppSettings.js"
import type { EndReason } from "./ChatSession.js"
import { type ChatSessionRow, ChatSessionsRepo } from "./ChatSessionsRepo.js"
import { Pairing } from "./Pairing.js"
import { SessionSettlement } from "./SessionSettlement.js"
import { SessionTimers } from "./SessionTimers.js"

export type DepartureReason = "deactivated" | "heartbeat_stale" | "went_offline"

const endReasonOf = (reason: DepartureReason): EndReason => reason === "deactivated" ? "mitra_deactivated" : "mitra_went_offline"

export class SessionRerouting extends Effect.Service<SessionRerouting>()("mitra/SessionRerouting", {
  effect: Effect.gen(function*() {
    const repo = yield* ChatSessionsRepo
    const transactions = yield* Transactions
    const availability = yield* Availability
    const appSettings = yield* AppSettings
    const pairing = yield* Pairing
    const settlement = yield* SessionSettlement
    const timers = yield* SessionTimers

    /** Withdraws the mitra's open offers and reroutes its live sessions; how many it rerouted. */
    const rerouteLiveSessionsOf = Effect.fn("SessionRerouting.rerouteLiveSessionsOf")(
      function*(mitraId: string, reason: DepartureReason) {
        yield* Effect.annotateCurrentSpan({ "mitra.id": mitraId, "departure.reason": reason })
        const settings = yield* appSettings.all()
        const at = new Date(yield* Clock.currentTimeMillis)
        const deadlineAt = new Date(at.getTime() + settings.pairing_timeout_seconds * 1000)
        const { closed, successors, withdrawn } = yield* transactions.run(Effect.gen(function*() {
          const withdrawn = yield* repo.withdrawOpenOffersTo({ mitraId, at })
          const live = yield* repo.lockLiveSessionsOf(mitraId)
          const closed: Array<ChatSessionRow> = []
          const successors: Array<ChatSessionRow> = []
          for (const session of live) {
            const rerouted = yield* repo.close({
              id: session.id,
              from: ["pending_payment", "active"],
              status: "rerouted",
              reason: endReasonOf(reason),
              at
            })
            if (Option.isNone(rerouted)) continue
            const successor = yield* repo.insertSearching({
              customerId: session.customerId,
              requestedAt: at,
              deadlineAt,
              reroutedFrom: session.id
            })
            if (Option.isSome(successor)) successors.push(successor.value)
            // Read again: now it names its successor (`reroutedTo`).
            closed.push(Option.getOrElse(yield* repo.findById(session.id), () => rerouted.value))
          }
          return { closed, successors, withdrawn }
        }))
        yield* Effect.annotateCurrentSpan("sessions.rerouted", closed.length)
        const available = successors.length === 0 ? [] : yield* availability.findAvailableMitras()
        const offersMade = yield* Effect.forEach(successors, (successor) => pairing.blast(successor, available, [mitraId], at))
        yield* settlement.settle({
          sessions: [...closed, ...successors],
          offersClosed: withdrawn.map((offer) => ({ ...offer, reason: "mitra_unavailable" as const })),
          offersMade: offersMade.flat(),
          capacityOf: closed.length > 0 ? [mitraId] : []
        })
        yield* timers.track([...closed, ...successors])
        return closed.length
      }
    )

    /**
     * The safety net: live sessions whose mitra is offline or deactivated (a reroute that failed
     * after its mitra's change committed), rerouted now. The due-deadline sweep runs it every
     * tick; a reroute racing it closes each session once (the close is conditional).
     */
    const rerouteOrphans = Effect.fn("SessionRerouting.rerouteOrphans")(function*() {
      const orphaned = yield* repo.orphanedMitras
      const counts = yield* Effect.forEach(orphaned, ({ isActive, mitraId }) =>
        rerouteLiveSessionsOf(mitraId, isActive ? "went_offline" : "deactivated"))
      return counts.reduce((a, b) => a + b, 0)
    })

    return { rerouteLiveSessionsOf, rerouteOrphans } as const
  }),
  dependencies: [
    ChatSessionsRepo.Default,
    Transactions.Default,
    Availability.Default,
    AppSettings.Default,
    Pairing.Default,
    SessionSettlement.Default,
    SessionTimers.Default
  ]
}) {}
