/**
 * What happened to a session or an offer, as it is pushed to the people it concerns: an offer to
 * its mitra, a withdrawn offer to its mitra, a session's new state to its customer and its mitra
 * (API.md, "Event streams"). Schemas, so a transport between instances can carry them as JSON.
 */
import { Schema } from "effect"
import { ChatSession, Offer, OfferClosedReason } from "./ChatSession.js"

/**
 * A session offered to mitras: one event per blast, however many mitras it reached (a thousand
 * events of one offer each would cost more to build and carry than the blast's own insert).
 */
export class OfferMade extends Schema.TaggedClass<OfferMade>()("OfferMade", {
  mitraIds: Schema.Array(Schema.UUID),
  offer: Offer
}) {}

/** A session's offers to these mitras closed without their answer (taken, cancelled, …). */
export class OfferWithdrawn extends Schema.TaggedClass<OfferWithdrawn>()("OfferWithdrawn", {
  mitraIds: Schema.Array(Schema.UUID),
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
