/** `/api/chat-sessions`: a customer's requests for a counsellor and what it does with them (API.md, Customer). */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CustomerAuthentication } from "../auth/Middleware.js"
import { Uuid } from "../domain/Uuid.js"
import { EventStreamBody, LastEventIdHeader } from "../events/EventStreamSchema.js"
import { TooManyStreams } from "../events/StreamHub.js"
import { TooManyRequests } from "../http/TooManyRequests.js"
import { SessionEnvelope, SessionListParams, SessionPage } from "../sessions/ChatSession.js"
import {
  MaxExtensionsReached,
  OpenSessionExists,
  SessionNotActive,
  SessionNotCancellable,
  SessionNotFound,
  SessionNotLive
} from "../sessions/SessionErrors.js"

const SessionPath = Schema.Struct({ id: Uuid })

export class CustomerSessionsApi extends HttpApiGroup.make("customerSessions")
  .add(
    HttpApiEndpoint.post("request", "/api/chat-sessions")
      .addSuccess(SessionEnvelope, { status: 201 })
      .addError(OpenSessionExists)
      .addError(TooManyRequests)
      .annotate(
        OpenApi.Description,
        "Asks for a counsellor: a searching session, offered at once to every mitra available now. 409 while this " +
          "customer has an open session (searching, pending_payment or active); 429 past SESSION_REQUESTS_PER_CUSTOMER."
      )
  )
  .add(
    HttpApiEndpoint.get("list", "/api/chat-sessions")
      .setUrlParams(SessionListParams)
      .addSuccess(SessionPage)
      .annotate(OpenApi.Summary, "This customer's sessions, newest first, optionally by status")
  )
  .add(
    HttpApiEndpoint.get("get", "/api/chat-sessions/:id")
      .setPath(SessionPath)
      .addSuccess(SessionEnvelope)
      .addError(SessionNotFound)
      .annotate(OpenApi.Summary, "One of this customer's sessions; 404 when not this customer's")
  )
  .add(
    HttpApiEndpoint.post("cancel", "/api/chat-sessions/:id/cancel")
      .setPath(SessionPath)
      .addSuccess(SessionEnvelope)
      .addError(SessionNotFound)
      .addError(SessionNotCancellable)
      .annotate(OpenApi.Summary, "Cancels while searching or waiting for payment (its offers are withdrawn); 409 otherwise")
  )
  .add(
    HttpApiEndpoint.post("extend", "/api/chat-sessions/:id/extend")
      .setPath(SessionPath)
      .addSuccess(SessionEnvelope)
      .addError(SessionNotFound)
      .addError(SessionNotActive)
      .addError(MaxExtensionsReached)
      .annotate(OpenApi.Summary, "Adds extension_minutes to an active session; 409 when not active or at max_extensions")
  )
  .add(
    HttpApiEndpoint.post("end", "/api/chat-sessions/:id/end")
      .setPath(SessionPath)
      .addSuccess(SessionEnvelope)
      .addError(SessionNotFound)
      .addError(SessionNotLive)
      .annotate(OpenApi.Summary, "Ends a live session (pending payment or active); 409 when not live")
  )
  .add(
    HttpApiEndpoint.get("events", "/api/chat-sessions/:id/events")
      .setPath(SessionPath)
      .setHeaders(LastEventIdHeader)
      .addSuccess(EventStreamBody)
      .addError(SessionNotFound)
      .addError(TooManyStreams)
      .annotate(
        OpenApi.Description,
        "Server-Sent Events (docs/events.md): on connect the session's `session_updated` (and its rerouted successors'); " +
          "then one per change, following a reroute to the successor. 404 when not this customer's session."
      )
  )
  .middleware(CustomerAuthentication)
  .annotate(OpenApi.Title, "Customer: chat sessions")
{}
