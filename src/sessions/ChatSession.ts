/**
 * A chat session and an offer of it, as the API shows them (API.md, "session" and "offer"), and
 * the states they move through (ARCHITECTURE.md sections 2 and 4).
 */
import { Schema } from "effect"
import { Uuid } from "../domain/Uuid.js"

export const SessionStatus = Schema.Literal(
  "searching",
  "pending_payment",
  "active",
  "ended",
  "expired",
  "cancelled",
  "unmatched",
  "rerouted"
)
export type SessionStatus = typeof SessionStatus.Type

/** A session a customer still has: one at a time. */
export const openStatuses: ReadonlyArray<SessionStatus> = ["searching", "pending_payment", "active"]
/** Live sessions hold their mitra's capacity. */
export const liveStatuses: ReadonlyArray<SessionStatus> = ["pending_payment", "active"]

export const isOpen = (status: SessionStatus) => openStatuses.includes(status)
export const isLive = (status: SessionStatus) => liveStatuses.includes(status)

/** Why a session closed (every closed status has one). */
export const EndReason = Schema.Literal(
  "customer_ended",
  "mitra_ended",
  "expired",
  "customer_cancelled",
  "no_mitra_accepted",
  "payment_failed",
  "payment_timeout",
  "mitra_deactivated",
  "mitra_went_offline"
)
export type EndReason = typeof EndReason.Type

export class ChatSession extends Schema.Class<ChatSession>("ChatSession")({
  id: Schema.UUID,
  customerId: Schema.UUID,
  /** The mitra who accepted it; null while searching (and for a session nobody accepted). */
  mitraId: Schema.NullOr(Schema.UUID),
  status: SessionStatus,
  requestedAt: Schema.Date,
  acceptedAt: Schema.NullOr(Schema.Date),
  paidAt: Schema.NullOr(Schema.Date),
  startedAt: Schema.NullOr(Schema.Date),
  expiresAt: Schema.NullOr(Schema.Date),
  endedAt: Schema.NullOr(Schema.Date),
  endReason: Schema.NullOr(EndReason),
  extensionCount: Schema.NonNegativeInt,
  /** The session this one carries on (its mitra dropped out). */
  reroutedFrom: Schema.NullOr(Schema.UUID),
  /** The session that carries this one on. */
  reroutedTo: Schema.NullOr(Schema.UUID)
}) {}

export const SessionEnvelope = Schema.Struct({ session: ChatSession }).annotations({ identifier: "SessionEnvelope" })

export const OfferStatus = Schema.Literal("open", "accepted", "declined", "expired", "withdrawn")
export type OfferStatus = typeof OfferStatus.Type

/** Why an offer stopped being open without the mitra answering it. */
export const OfferClosedReason = Schema.Literal("taken", "cancelled", "mitra_unavailable", "no_mitra_accepted", "session_closed")
export type OfferClosedReason = typeof OfferClosedReason.Type

/** An open offer, as its mitra sees it. */
export class Offer extends Schema.Class<Offer>("Offer")({
  sessionId: Schema.UUID,
  customerId: Schema.UUID,
  requestedAt: Schema.Date,
  /** The pairing timeout: after it the session is unmatched and the offer expired. */
  offerExpiresAt: Schema.Date
}) {}

/** An offer of a session as the control center sees it. */
export class OfferRecord extends Schema.Class<OfferRecord>("OfferRecord")({
  mitraId: Schema.UUID,
  status: OfferStatus,
  offeredAt: Schema.Date,
  respondedAt: Schema.NullOr(Schema.Date),
  reason: Schema.NullOr(OfferClosedReason)
}) {}

/**
 * An opaque page position: base64url of `["<requested micros>", "<id>"]`. Anything else is a 400
 * at decoding, before it can reach a query.
 */
export const SessionCursor = Schema.compose(
  Schema.StringFromBase64Url,
  Schema.parseJson(Schema.Tuple(Schema.String.pipe(Schema.pattern(/^\d{1,17}$/)), Uuid))
).annotations({ identifier: "SessionCursor", message: () => "Expected a cursor returned by a previous page" })

export const sessionPageSize = { default: 50, max: 100 } as const

export const SessionPage = Schema.Struct({
  items: Schema.Array(ChatSession),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: Schema.NullOr(Schema.String)
}).annotations({ identifier: "SessionPage" })

/** `?status=&limit=&cursor=` of the session lists. */
export const SessionListParams = Schema.Struct({
  status: Schema.optionalWith(SessionStatus, { exact: true }),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, sessionPageSize.max)), { exact: true }),
  cursor: Schema.optionalWith(SessionCursor, { exact: true })
})
export type SessionListParams = typeof SessionListParams.Type
