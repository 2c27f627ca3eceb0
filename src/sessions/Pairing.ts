/**
 * The pairing blast and its answers (ARCHITECTURE.md section 4): a customer's request opens a
 * `searching` session with an open offer to every mitra available right now (the mirror's
 * `findAvailableMitras`, Postgres when Valkey fails — the beacon's read); the first mitra to
 * accept wins it, the other offers are withdrawn; a mitra may decline instead and is never offered
 * that session again.
 *
 * Accept is atomic, and capacity holds under concurrent accepts of different sessions by one mitra
 * on several instances: a `count(*)` inside the UPDATE would not do at READ COMMITTED (a blocked
 * UPDATE re-checks only its own row), so an accept first locks the mitra's row — every accept of
 * one mitra queues there — then counts its live sessions, then takes the session with a
 * conditional UPDATE (`WHERE status = 'searching'`): exactly one mitra wins.
 */
import { Clock, Effect, Option } from "effect"
import { mitraDeactivated } from "../auth/AuthErrors.js"
import { Availability } from "../availability/Availability.js"
import { Transactions } from "../db/Repository.js"
import { MitraNotFound } from "../mitras/MitraErrors.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { AppSettings } from "../settings/AppSettings.js"
import { isLive, Offer } from "./ChatSession.js"
import { type ChatSessionRow, ChatSessionsRepo, toChatSession } from "./ChatSessionsRepo.js"
import { NoFreeCapacity, NoOpenOffer, OfferNotFound, OpenSessionExists, SessionNotFound, SessionNotSearching, SessionTaken } from "./SessionErrors.js"
import { SessionSettlement } from "./SessionSettlement.js"
import { SessionTimers } from "./SessionTimers.js"

const seconds = (n: number) => n * 1000
const minutes = (n: number) => n * 60_000

/** The offer its mitra is shown for an open session. */
export const offerOf = (session: ChatSessionRow) =>
  new Offer({
    sessionId: session.id,
    customerId: session.customerId,
    requestedAt: session.requestedAt,
    offerExpiresAt: session.deadlineAt ?? session.requestedAt
  })

export class Pairing extends Effect.Service<Pairing>()("mitra/Pairing", {
  effect: Effect.gen(function*() {
    const repo = yield* ChatSessionsRepo
    const mitras = yield* MitrasRepo
    const transactions = yield* Transactions
    const availability = yield* Availability
    const appSettings = yield* AppSettings
    const settlement = yield* SessionSettlement
    const timers = yield* SessionTimers

    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

    /**
     * Offers `session` to every available mitra but `excluding` (in its own statement, after the
     * session committed): the offers made, for the caller to settle.
     */
    const blast = (session: ChatSessionRow, available: ReadonlyArray<string>, excluding: ReadonlyArray<string>, at: Date) =>
      Effect.gen(function*() {
        const mitraIds = available.filter((id) => !excluding.includes(id))
        if (mitraIds.length === 0) return []
        const offered = yield* repo.insertOffers({ sessionId: session.id, mitraIds, at })
        yield* Effect.annotateCurrentSpan("session.offers", offered.length)
        const offer = offerOf(session)
        return offered.map(({ mitraId }) => ({ mitraId, offer }))
      })

    /** A customer's request: a searching session and the blast. 409 while it has an open session. */
    const request = Effect.fn("Pairing.request")(function*(customerId: string) {
      yield* Effect.annotateCurrentSpan("customer.id", customerId)
      const settings = yield* appSettings.all()
      const at = yield* now
      const inserted = yield* repo.insertSearching({
        customerId,
        requestedAt: at,
        deadlineAt: new Date(at.getTime() + seconds(settings.pairing_timeout_seconds)),
        reroutedFrom: null
      })
      if (Option.isNone(inserted)) {
        const open = yield* repo.openSessionOf(customerId)
        return yield* new OpenSessionExists({
          message: "This customer already has an open session (searching, waiting for payment, or active)",
          sessionId: Option.match(open, { onNone: () => "", onSome: (session) => session.id })
        })
      }
      const session = inserted.value
      yield* Effect.annotateCurrentSpan("session.id", session.id)
      const offersMade = yield* blast(session, yield* availability.findAvailableMitras(), [], at)
      yield* settlement.settle({ sessions: [session], offersMade })
      yield* timers.track([session])
      return toChatSession(session)
    })

    /**
     * `mitraId` takes the session. 409 with why not: taken by another mitra, no longer searching,
     * no open offer to this mitra, or no free capacity.
     */
    const accept = Effect.fn("Pairing.accept")(function*(mitraId: string, sessionId: string) {
      yield* Effect.annotateCurrentSpan({ "mitra.id": mitraId, "session.id": sessionId })
      const settings = yield* appSettings.all()
      const at = yield* now
      const outcome = yield* transactions.run(Effect.gen(function*() {
        // Every accept of this mitra waits here for the one before it to commit.
        const mitra = yield* mitras.lockMitra(mitraId)
        if (Option.isNone(mitra)) return yield* new MitraNotFound({ message: "No such mitra", mitraId })
        if (!mitra.value.isActive) return yield* mitraDeactivated
        const session = yield* repo.lockById(sessionId)
        if (Option.isNone(session)) return yield* new SessionNotFound({ message: "No such session", sessionId })
        const current = session.value
        if (current.status !== "searching") {
          // A retried accept that already won answers as the first one did.
          if (isLive(current.status) && current.mitraId === mitraId) return { session: current, withdrawn: [] }
          if (isLive(current.status)) return yield* new SessionTaken({ message: "Another mitra accepted this session first", sessionId })
          return yield* new SessionNotSearching({ message: `This session is ${current.status}`, sessionId, status: current.status })
        }
        const offer = yield* repo.lockOffer({ sessionId, mitraId })
        if (Option.isNone(offer) || offer.value.status !== "open") {
          return yield* new NoOpenOffer({ message: "This session is not offered to this mitra", sessionId })
        }
        const capacity = yield* mitras.capacityOf(mitraId)
        const live = Option.match(capacity, { onNone: () => 0, onSome: (c) => c.liveSessions })
        const max = Option.match(capacity, {
          onNone: () => settings.max_sessions_per_mitra,
          onSome: (c) => c.maxConcurrentSessions ?? settings.max_sessions_per_mitra
        })
        if (live >= max) {
          return yield* new NoFreeCapacity({ message: "Accepting would exceed this mitra's live sessions", liveSessions: live, maxConcurrentSessions: max })
        }
        const accepted = yield* repo.markAccepted({
          id: sessionId,
          mitraId,
          at,
          ...(settings.payment_required
            ? { status: "pending_payment" as const, deadlineAt: new Date(at.getTime() + seconds(settings.payment_timeout_seconds)) }
            : { status: "active" as const, deadlineAt: new Date(at.getTime() + minutes(settings.session_duration_minutes)) })
        })
        if (Option.isNone(accepted)) {
          return yield* new SessionNotSearching({ message: "This session is no longer searching", sessionId, status: current.status })
        }
        yield* repo.answerOffer({ sessionId, mitraId, status: "accepted", at })
        const withdrawn = yield* repo.closeOpenOffersOf({ sessionId, status: "withdrawn", reason: "taken", at })
        return { session: accepted.value, withdrawn }
      }))
      yield* settlement.settle({
        sessions: [outcome.session],
        offersClosed: outcome.withdrawn.map((offer) => ({ ...offer, reason: "taken" as const })),
        capacityOf: [mitraId]
      })
      yield* timers.track([outcome.session])
      return toChatSession(outcome.session)
    })

    /** The mitra declines its open offer: never offered this session again. 404 when it has none open. */
    const decline = Effect.fn("Pairing.decline")(function*(mitraId: string, sessionId: string) {
      yield* Effect.annotateCurrentSpan({ "mitra.id": mitraId, "session.id": sessionId })
      const answered = yield* repo.answerOffer({ sessionId, mitraId, status: "declined", at: yield* now })
      if (Option.isNone(answered)) return yield* new OfferNotFound({ message: "This mitra has no open offer of this session", sessionId })
    })

    /** The mitra's open offers, oldest first (its catch-up after a reconnect, or polling). */
    const openOffers = Effect.fn("Pairing.openOffers")(function*(mitraId: string) {
      const rows = yield* repo.openOffersOf(mitraId)
      return rows.map((row) =>
        new Offer({ sessionId: row.sessionId, customerId: row.customerId, requestedAt: row.requestedAt, offerExpiresAt: row.offerExpiresAt })
      )
    })

    return { request, accept, decline, openOffers, blast } as const
  }),
  dependencies: [
    ChatSessionsRepo.Default,
    MitrasRepo.Default,
    Transactions.Default,
    Availability.Default,
    AppSettings.Default,
    SessionSettlement.Default,
    SessionTimers.Default
  ]
}) {}
