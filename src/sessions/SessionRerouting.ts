/**
 * What happens to a mitra's sessions when the mitra stops being able to serve them: its open
 * offers are withdrawn and its live sessions rerouted (closed as `rerouted`, a new `searching`
 * session carries the customer on; ARCHITECTURE.md sections 2 and 3). Called after the mitra's
 * own change has committed and been mirrored, by whoever made it: a deactivation
 * (`MitraAccounts.setActive`) or the auto-offline sweep (`AutoOfflineSweep`).
 *
 * A hook for now: the sessions issue fills it in.
 */
import { Effect } from "effect"

export type DepartureReason = "deactivated" | "heartbeat_stale"

export class SessionRerouting extends Effect.Service<SessionRerouting>()("mitra/SessionRerouting", {
  succeed: {
    /** Withdraws the mitra's open offers and reroutes its live sessions. No-op until the sessions issue lands. */
    rerouteLiveSessionsOf: Effect.fn("SessionRerouting.rerouteLiveSessionsOf")(
      function*(mitraId: string, reason: DepartureReason) {
        yield* Effect.annotateCurrentSpan({ "mitra.id": mitraId, "departure.reason": reason })
      }
    )
  }
}) {}
