/**
 * What follows every committed session transition, whichever part made it: each mitra whose live
 * sessions changed gets its capacity recounted and mirrored (`Capacity`, derived from truth,
 * never INCR/DECR), and the change is announced (`SessionEvents`): offers to their mitras,
 * withdrawn offers to theirs, a session's new state to its customer and mitra. Never fails: the
 * transition has committed; a Postgres or Valkey failure here is logged, the mirror is healed by
 * the reseed, and a lost event costs a client one catch-up read.
 */
import { Array as Arr, Effect } from "effect"
import { Capacity } from "../availability/Capacity.js"
import type { Offer, OfferClosedReason } from "./ChatSession.js"
import { type ChatSessionRow, toChatSession } from "./ChatSessionsRepo.js"
import { OfferMade, OfferWithdrawn, type SessionEvent, SessionUpdated } from "./SessionEvent.js"
import { SessionEvents } from "./SessionEvents.js"

export interface SessionChanges {
  /** Sessions whose state changed: announced to their customer and mitra. */
  readonly sessions?: ReadonlyArray<ChatSessionRow>
  readonly offersMade?: ReadonlyArray<{ readonly mitraId: string; readonly offer: Offer }>
  readonly offersClosed?: ReadonlyArray<{ readonly mitraId: string; readonly sessionId: string; readonly reason: OfferClosedReason }>
  /** Mitras whose live sessions changed. */
  readonly capacityOf?: ReadonlyArray<string | null>
}

export class SessionSettlement extends Effect.Service<SessionSettlement>()("mitra/SessionSettlement", {
  effect: Effect.gen(function*() {
    const capacity = yield* Capacity
    const events = yield* SessionEvents

    const settle = Effect.fn("SessionSettlement.settle")(function*(changes: SessionChanges) {
      const mitras = [...new Set((changes.capacityOf ?? []).filter((id) => id !== null))]
      yield* Effect.forEach(mitras, (mitraId) =>
        capacity.recomputeCapacityForMitra(mitraId).pipe(
          Effect.catchAllCause((cause) => Effect.logWarning("Capacity recount after a session change failed; the reseed heals it", cause))
        ), { discard: true, concurrency: 4 })
      // Built from rows this service just wrote: not validated again.
      const trusted = { disableValidation: true }
      const published: Array<SessionEvent> = [
        ...Object.values(Arr.groupBy(changes.offersClosed ?? [], (closed) => `${closed.sessionId} ${closed.reason}`)).map((closed) =>
          new OfferWithdrawn({ sessionId: closed[0].sessionId, reason: closed[0].reason, mitraIds: closed.map((c) => c.mitraId) }, trusted)
        ),
        ...(changes.sessions ?? []).map((row) => new SessionUpdated({ session: toChatSession(row) }, trusted)),
        ...Object.values(Arr.groupBy(changes.offersMade ?? [], (made) => made.offer.sessionId)).map((made) =>
          new OfferMade({ offer: made[0].offer, mitraIds: made.map((m) => m.mitraId) }, trusted)
        )
      ]
      if (published.length > 0) yield* events.publish(published)
    })

    return { settle } as const
  }),
  dependencies: [Capacity.Default]
}) {}

