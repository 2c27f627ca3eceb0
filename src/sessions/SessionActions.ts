/**
 * What the two people in a session can do to it after the pairing (ARCHITECTURE.md section 4):
 * the customer cancels (while searching or waiting for payment), extends (while active, at most
 * `max_extensions` times, `extension_minutes` each), or ends it; the mitra ends it. Each is one
 * conditional UPDATE in one transaction; a session that is not the caller's is a 404, one in the
 * wrong state a 409 saying which state it is in.
 */
import { Clock, Effect, Option } from "effect"
import { Transactions } from "../db/Repository.js"
import { AppSettings } from "../settings/AppSettings.js"
import type { SessionStatus } from "./ChatSession.js"
import { type ChatSessionRow, ChatSessionsRepo, toChatSession } from "./ChatSessionsRepo.js"
import { MaxExtensionsReached, SessionNotActive, SessionNotCancellable, SessionNotFound, SessionNotLive } from "./SessionErrors.js"
import { SessionSettlement } from "./SessionSettlement.js"
import { SessionTimers } from "./SessionTimers.js"

/** Who is acting on a session: only its own customer, or its own mitra, may. */
export type SessionParty = { readonly customerId: string } | { readonly mitraId: string }

const belongsTo = (session: ChatSessionRow, party: SessionParty) =>
  "customerId" in party ? session.customerId === party.customerId : session.mitraId === party.mitraId

export class SessionActions extends Effect.Service<SessionActions>()("mitra/SessionActions", {
  effect: Effect.gen(function*() {
    const repo = yield* ChatSessionsRepo
    const transactions = yield* Transactions
    const appSettings = yield* AppSettings
    const settlement = yield* SessionSettlement
    const timers = yield* SessionTimers

    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
    const notFound = (sessionId: string) => new SessionNotFound({ message: "No such session", sessionId })

    /** The session, locked, if it is `party`'s (404 otherwise: another's session is not shown to exist). */
    const lockOwn = (sessionId: string, party: SessionParty) =>
      Effect.flatMap(repo.lockById(sessionId), (found) =>
        Option.isSome(found) && belongsTo(found.value, party) ? Effect.succeed(found.value) : Effect.fail(notFound(sessionId)))

    /** After the commit: capacity, events, timer. */
    const settled = (session: ChatSessionRow, offersClosed: ReadonlyArray<{ readonly mitraId: string; readonly sessionId: string }> = []) =>
      Effect.gen(function*() {
        yield* settlement.settle({
          sessions: [session],
          offersClosed: offersClosed.map((offer) => ({ ...offer, reason: "cancelled" as const })),
          capacityOf: [session.mitraId]
        })
        yield* timers.track([session])
        return toChatSession(session)
      })

    /** The customer cancels: only while searching (its offers withdrawn) or waiting for payment. */
    const cancel = Effect.fn("SessionActions.cancel")(function*(customerId: string, sessionId: string) {
      yield* Effect.annotateCurrentSpan({ "customer.id": customerId, "session.id": sessionId })
      const at = yield* now
      const { offers, session } = yield* transactions.run(Effect.gen(function*() {
        const current = yield* lockOwn(sessionId, { customerId })
        const cancellable: ReadonlyArray<SessionStatus> = ["searching", "pending_payment"]
        const closed = yield* repo.close({ id: sessionId, from: cancellable, status: "cancelled", reason: "customer_cancelled", at })
        if (Option.isNone(closed)) {
          return yield* new SessionNotCancellable({
            message: `Only a searching or pending-payment session can be cancelled; this one is ${current.status}`,
            sessionId,
            status: current.status
          })
        }
        const offers = yield* repo.closeOpenOffersOf({ sessionId, status: "withdrawn", reason: "cancelled", at })
        return { offers, session: closed.value }
      }))
      return yield* settled(session, offers)
    })

    /** The customer extends an active session by `extension_minutes`, at most `max_extensions` times. */
    const extend = Effect.fn("SessionActions.extend")(function*(customerId: string, sessionId: string) {
      yield* Effect.annotateCurrentSpan({ "customer.id": customerId, "session.id": sessionId })
      const settings = yield* appSettings.all()
      const session = yield* transactions.run(Effect.gen(function*() {
        const current = yield* lockOwn(sessionId, { customerId })
        if (current.status !== "active") {
          return yield* new SessionNotActive({ message: `Only an active session can be extended; this one is ${current.status}`, sessionId, status: current.status })
        }
        const extended = yield* repo.extend({ id: sessionId, minutes: settings.extension_minutes, maxExtensions: settings.max_extensions })
        if (Option.isNone(extended)) {
          return yield* new MaxExtensionsReached({
            message: `This session has been extended ${current.extensionCount} times, the most allowed`,
            sessionId,
            maxExtensions: settings.max_extensions
          })
        }
        return extended.value
      }))
      return yield* settled(session)
    })

    /** Either side ends a live session (pending payment or active). */
    const end = Effect.fn("SessionActions.end")(function*(party: SessionParty, sessionId: string) {
      yield* Effect.annotateCurrentSpan("session.id", sessionId)
      const at = yield* now
      const session = yield* transactions.run(Effect.gen(function*() {
        const current = yield* lockOwn(sessionId, party)
        const closed = yield* repo.close({
          id: sessionId,
          from: ["pending_payment", "active"],
          status: "ended",
          reason: "customerId" in party ? "customer_ended" : "mitra_ended",
          at
        })
        if (Option.isNone(closed)) {
          return yield* new SessionNotLive({ message: `Only a live session can be ended; this one is ${current.status}`, sessionId, status: current.status })
        }
        return closed.value
      }))
      return yield* settled(session)
    })

    return { cancel, extend, end } as const
  }),
  dependencies: [ChatSessionsRepo.Default, Transactions.Default, AppSettings.Default, SessionSettlement.Default, SessionTimers.Default]
}) {}
