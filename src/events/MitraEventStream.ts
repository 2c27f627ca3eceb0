/**
 * `GET /api/mitra/events`: a mitra's offers and sessions, pushed (API.md, "Event streams"). On
 * connect, one `offer` per open offer; with a `Last-Event-ID` (or after events may have been
 * missed) also the offers closed since (`offer_withdrawn`) and the sessions changed since
 * (`session_updated`). Live: `offer`, `offer_withdrawn`, `session_updated`; a deactivation ends
 * the stream with `mitra_deactivated`.
 */
import { Effect, Option, Schema } from "effect"
import type { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { MitrasRepo } from "../mitras/MitrasRepo.js"
import { ChatSession, Offer } from "../sessions/ChatSession.js"
import { ChatSessionsRepo, toChatSession } from "../sessions/ChatSessionsRepo.js"
import type { SessionEvent } from "../sessions/SessionEvent.js"
import { EventStreams, type Frames } from "./EventStream.js"
import { eventFrame, timeOfEventId } from "./Sse.js"

const encodeOffer = Schema.encodeSync(Offer)
const encodeSession = Schema.encodeSync(ChatSession)

/** The SSE event of a live event on a mitra's stream. */
const renderForMitra = (event: SessionEvent, id: string) => {
  switch (event._tag) {
    case "OfferMade":
      return { name: "offer", frame: eventFrame(id, "offer", { offer: encodeOffer(event.offer) }) }
    case "OfferWithdrawn":
      return { name: "offer_withdrawn", frame: eventFrame(id, "offer_withdrawn", { sessionId: event.sessionId, reason: event.reason }) }
    case "SessionUpdated":
      return { name: "session_updated", frame: eventFrame(id, "session_updated", { session: encodeSession(event.session) }) }
    case "MitraDeactivated":
      return { name: "mitra_deactivated", frame: eventFrame(id, "mitra_deactivated", { mitraId: event.mitraId }) }
  }
}

export class MitraEventStream extends Effect.Service<MitraEventStream>()("mitra/MitraEventStream", {
  effect: Effect.gen(function*() {
    const streams = yield* EventStreams
    const sessions = yield* ChatSessionsRepo
    const mitras = yield* MitrasRepo

    const catchUp = (mitraId: string) => (since: number | undefined, id: () => string) =>
      Effect.gen(function*(): Effect.fn.Return<Frames, DatabaseUnavailable> {
        const active = yield* mitras.activeFlag(mitraId)
        if (Option.isNone(active) || !active.value.isActive) {
          return { frames: [eventFrame(id(), "mitra_deactivated", { mitraId })], end: true }
        }
        const frames: Array<Uint8Array> = []
        if (since !== undefined) {
          const at = new Date(since)
          for (const closed of yield* sessions.offersClosedSince({ mitraId, since: at })) {
            frames.push(eventFrame(id(), "offer_withdrawn", { sessionId: closed.sessionId, reason: closed.reason }))
          }
          for (const row of yield* sessions.sessionsOfMitraChangedSince({ mitraId, since: at })) {
            frames.push(eventFrame(id(), "session_updated", { session: encodeSession(toChatSession(row)) }))
          }
        }
        for (const row of yield* sessions.openOffersOf(mitraId)) {
          const offer = new Offer({
            sessionId: row.sessionId,
            customerId: row.customerId,
            requestedAt: row.requestedAt,
            offerExpiresAt: row.offerExpiresAt
          })
          frames.push(eventFrame(id(), "offer", { offer: encodeOffer(offer) }))
        }
        return { frames, end: false }
      })

    /** The mitra's stream; `lastEventId` is its `Last-Event-ID` header, if any. */
    const open = (mitraId: string, lastEventId: string | undefined) =>
      streams.open({ subject: `mitra:${mitraId}`, kind: "mitra", catchUp: catchUp(mitraId), render: renderForMitra }, timeOfEventId(lastEventId))

    return { open } as const
  }),
  dependencies: [EventStreams.Default, ChatSessionsRepo.Default, MitrasRepo.Default]
}) {}
