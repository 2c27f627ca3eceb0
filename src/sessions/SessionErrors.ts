/**
 * The expected failures of the session routes, each with the status the API answers and a `_tag`
 * that says why (a losing accept learns whether the session was taken, was not searching, was
 * never offered to it, or would exceed its capacity).
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** No such session — or not the caller's, which is the same answer. */
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()(
  "SessionNotFound",
  { message: Schema.String, sessionId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** The customer already has a session searching, waiting for payment, or active. */
export class OpenSessionExists extends Schema.TaggedError<OpenSessionExists>()(
  "OpenSessionExists",
  { message: Schema.String, sessionId: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** Another mitra accepted the session first. */
export class SessionTaken extends Schema.TaggedError<SessionTaken>()(
  "SessionTaken",
  { message: Schema.String, sessionId: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** The session is no longer searching (cancelled, unmatched, rerouted…), so it cannot be accepted. */
export class SessionNotSearching extends Schema.TaggedError<SessionNotSearching>()(
  "SessionNotSearching",
  { message: Schema.String, sessionId: Schema.String, status: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** The mitra has no open offer of the session (never offered, declined, withdrawn, expired). */
export class NoOpenOffer extends Schema.TaggedError<NoOpenOffer>()(
  "NoOpenOffer",
  { message: Schema.String, sessionId: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** Declining an offer the mitra does not have open. */
export class OfferNotFound extends Schema.TaggedError<OfferNotFound>()(
  "OfferNotFound",
  { message: Schema.String, sessionId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** Accepting would put the mitra over its maximum of live sessions. */
export class NoFreeCapacity extends Schema.TaggedError<NoFreeCapacity>()(
  "NoFreeCapacity",
  { message: Schema.String, liveSessions: Schema.Int, maxConcurrentSessions: Schema.Int },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** Ending a session that is not live (pending payment or active). */
export class SessionNotLive extends Schema.TaggedError<SessionNotLive>()(
  "SessionNotLive",
  { message: Schema.String, sessionId: Schema.String, status: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** Cancelling a session that is neither searching nor waiting for payment. */
export class SessionNotCancellable extends Schema.TaggedError<SessionNotCancellable>()(
  "SessionNotCancellable",
  { message: Schema.String, sessionId: Schema.String, status: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** Extending a session that is not active. */
export class SessionNotActive extends Schema.TaggedError<SessionNotActive>()(
  "SessionNotActive",
  { message: Schema.String, sessionId: Schema.String, status: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** The session has been extended `max_extensions` times already. */
export class MaxExtensionsReached extends Schema.TaggedError<MaxExtensionsReached>()(
  "MaxExtensionsReached",
  { message: Schema.String, sessionId: Schema.String, maxExtensions: Schema.Int },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** The webhook's `X-Signature` is missing or is not the HMAC of the body with the shared secret. */
export class InvalidSignature extends Schema.TaggedError<InvalidSignature>()(
  "InvalidSignature",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** No `PAYMENT_WEBHOOK_SECRET` is configured: no payment notice can be trusted, so none is taken. */
export class PaymentsNotConfigured extends Schema.TaggedError<PaymentsNotConfigured>()(
  "PaymentsNotConfigured",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}
