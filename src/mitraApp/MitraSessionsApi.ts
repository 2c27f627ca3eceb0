/** `/api/mitra/offers` and `/api/mitra/sessions`: a mitra's side of the pairing (API.md, Mitra). */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { MitraAuthentication } from "../auth/Middleware.js"
import { Uuid } from "../domain/Uuid.js"
import { EventStreamBody, LastEventIdHeader } from "../events/EventStreamSchema.js"
import { TooManyStreams } from "../events/StreamHub.js"
import { MitraNotFound } from "../mitras/MitraErrors.js"
import { Offer, SessionEnvelope, SessionListParams, SessionPage } from "../sessions/ChatSession.js"
import {
  NoFreeCapacity,
  NoOpenOffer,
  OfferNotFound,
  SessionNotFound,
  SessionNotLive,
  SessionNotSearching,
  SessionTaken
} from "../sessions/SessionErrors.js"

export const OfferList = Schema.Struct({ items: Schema.Array(Offer) }).annotations({ identifier: "OfferList" })

const SessionPath = Schema.Struct({ id: Uuid })
const OfferPath = Schema.Struct({ sessionId: Uuid })

export class MitraSessionsApi extends HttpApiGroup.make("mitraSessions")
  .add(
    HttpApiEndpoint.get("offers", "/api/mitra/offers")
      .addSuccess(OfferList)
      .annotate(OpenApi.Summary, "This mitra's open offers, oldest first (catch-up after a reconnect, or polling)")
  )
  .add(
    HttpApiEndpoint.post("decline", "/api/mitra/offers/:sessionId/decline")
      .setPath(OfferPath)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(OfferNotFound)
      .annotate(OpenApi.Summary, "Declines an open offer; the session is never offered to this mitra again. 404 when no open offer")
  )
  .add(
    HttpApiEndpoint.post("accept", "/api/mitra/sessions/:id/accept")
      .setPath(SessionPath)
      .addSuccess(SessionEnvelope)
      .addError(SessionNotFound)
      .addError(MitraNotFound)
      .addError(SessionTaken)
      .addError(SessionNotSearching)
      .addError(NoOpenOffer)
      .addError(NoFreeCapacity)
      .annotate(
        OpenApi.Description,
        "Takes the session: the first accept wins and the other offers are withdrawn. 409 with a _tag saying why for " +
          "every loser: SessionTaken, SessionNotSearching, NoOpenOffer, NoFreeCapacity. A retry by the winner answers 200."
      )
  )
  .add(
    HttpApiEndpoint.post("end", "/api/mitra/sessions/:id/end")
      .setPath(SessionPath)
      .addSuccess(SessionEnvelope)
      .addError(SessionNotFound)
      .addError(SessionNotLive)
      .annotate(OpenApi.Summary, "Ends a live session of this mitra; 409 when not live, 404 when not this mitra's")
  )
  .add(
    HttpApiEndpoint.get("list", "/api/mitra/sessions")
      .setUrlParams(SessionListParams)
      .addSuccess(SessionPage)
      .annotate(OpenApi.Summary, "This mitra's sessions, newest first, optionally by status")
  )
  .add(
    HttpApiEndpoint.get("events", "/api/mitra/events")
      .setHeaders(LastEventIdHeader)
      .addSuccess(EventStreamBody)
      .addError(TooManyStreams)
      .annotate(
        OpenApi.Description,
        "Server-Sent Events (docs/events.md): on connect one `offer` per open offer; then `offer` {offer}, " +
          "`offer_withdrawn` {sessionId, reason}, `session_updated` {session}; `mitra_deactivated` ends it. Every event has an " +
          "id; reconnect with Last-Event-ID to catch up. A `: keep-alive` comment at least every 20 s."
      )
  )
  .middleware(MitraAuthentication)
  .annotate(OpenApi.Title, "Mitra: offers and sessions")
{}
