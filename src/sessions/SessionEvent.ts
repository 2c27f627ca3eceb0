/**
 * What happened to a session or an offer, as it is pushed to the people it concerns: an offer to
 * its mitra, a withdrawn offer to its mitra, a session's new state to its customer and its mitra
 * (API.md, "Event streams"). Schemas, so a transport between instances can carry them as JSON.
 */
import { Schema } from "effect"
import { ChatSession, Offer, OfferClosedReason } from "./ChatSession.js"

export class OfferMade extends Schema.TaggedClass<OfferMade>()("OfferMade", {
  mitraId: Schema.UUID,
  offer: Offer
}) {}

export class OfferWithdrawn extends Schema.TaggedClass<OfferWithdrawn>()("OfferWithdrawn", {
  mitraId: Schema.UUID,
  sessionId: Schema.UUID,
  reason: OfferClosedReason
}) {}

export class SessionUpdated extends Schema.TaggedClass<SessionUpdated>()("SessionUpdated", {
  session: ChatSession
}) {}

/** The mitra was deactivated: its event streams end with this as their last event. */
export class MitraDeactivated extends Schema.TaggedClass<MitraDeactivated>()("MitraDeactivated", {
  mitraId: Schema.UUID
}) {}

export const SessionEvent = Schema.Union(OfferMade, OfferWithdrawn, SessionUpdated, MitraDeactivated)
export type SessionEvent = typeof SessionEvent.Type

/**
 * Events published together, as a transport carries them: `publishedAt` (epoch milliseconds, the
 * publisher's clock) measures delivery lag and places the events for a reconnecting client.
 */
export const EventBatch = Schema.Struct({
  publishedAt: Schema.Number,
  events: Schema.Array(SessionEvent)
})
export type EventBatch = typeof EventBatch.Type
