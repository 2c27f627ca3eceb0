/** `/internal/chat-sessions`: the control center's view of chat sessions and their offers (API.md, Control center). */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CcUserAuthentication } from "../auth/Middleware.js"
import { Uuid } from "../domain/Uuid.js"
import { ChatSession, OfferRecord, SessionListParams, SessionPage } from "../sessions/ChatSession.js"
import { SessionNotFound } from "../sessions/SessionErrors.js"

export const SessionFilterParams = Schema.Struct({
  ...SessionListParams.fields,
  mitraId: Schema.optionalWith(Uuid, { exact: true }),
  customerId: Schema.optionalWith(Uuid, { exact: true })
})

export const SessionWithOffers = Schema.Struct({
  session: ChatSession,
  offers: Schema.Array(OfferRecord)
}).annotations({ identifier: "SessionWithOffers" })

export class ChatSessionsApi extends HttpApiGroup.make("chatSessions")
  .add(
    HttpApiEndpoint.get("list", "/internal/chat-sessions")
      .setUrlParams(SessionFilterParams)
      .addSuccess(SessionPage)
      .annotate(OpenApi.Summary, "Chat sessions, newest first, by status, mitra and customer; permission sessions:read")
  )
  .add(
    HttpApiEndpoint.get("get", "/internal/chat-sessions/:id")
      .setPath(Schema.Struct({ id: Uuid }))
      .addSuccess(SessionWithOffers)
      .addError(SessionNotFound)
      .annotate(OpenApi.Summary, "One chat session with every offer made of it; permission sessions:read")
  )
  .middleware(CcUserAuthentication)
  .annotate(OpenApi.Title, "Control center: chat sessions")
{}
