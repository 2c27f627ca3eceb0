/**
 * `GET /api/chat-sessions/{id}/events`: one customer session, pushed (API.md, "Event streams").
 * On connect — and whenever events may have been missed — the session's current state, and the
 * state of each session that carried it on after a reroute; live, a `session_updated` per change,
 * following the hop to a rerouted successor. Only the session's own customer may open it (404).
 */
import { Effect, Schema } from "effect"
import { ChatSession } from "../sessions/ChatSession.js"
import { ChatSessionsRepo, toChatSession } from "../sessions/ChatSessionsRepo.js"
import type { SessionEvent } from "../sessions/SessionEvent.js"
import { SessionQueries } from "../sessions/SessionQueries.js"
import { EventStreams } from "./EventStream.js"
import { eventFrame, timeOfEventId } from "./Sse.js"

const encodeSession = Schema.encodeSync(ChatSession)

export class SessionEventStream extends Effect.Service<SessionEventStream>()("mitra/SessionEventStream", {
  effect: Effect.gen(function*() {
    const streams = yield* EventStreams
    const sessions = yield* ChatSessionsRepo
    const queries = yield* SessionQueries

    /** The customer's stream of `sessionId`: 404 when it is not this customer's session. */
    const open = Effect.fn("SessionEventStream.open")(function*(customerId: string, sessionId: string, lastEventId: string | undefined) {
      yield* queries.ofCustomer(customerId, sessionId)
      // The session and its successors: events of any of them belong on this stream.
      const followed = new Set<string>([sessionId])

      const catchUp = (_since: number | undefined, id: () => string) =>
        Effect.map(sessions.rerouteChainFrom(sessionId), (chain) => {
          chain.forEach((row) => followed.add(row.id))
          return {
            frames: chain.map((row) => eventFrame(id(), "session_updated", { session: encodeSession(toChatSession(row)) })),
            end: chain.length === 0
          }
        })

      const render = (event: SessionEvent, id: string) => {
        if (event._tag !== "SessionUpdated") return undefined
        const { session } = event
        if (!followed.has(session.id)) {
          if (session.reroutedFrom === null || !followed.has(session.reroutedFrom)) return undefined
          followed.add(session.id)
        }
        return { name: "session_updated", frame: eventFrame(id, "session_updated", { session: encodeSession(session) }) }
      }

      return yield* streams.open({ subject: `customer:${customerId}`, kind: "session", catchUp, render }, timeOfEventId(lastEventId))
    })

    return { open } as const
  }),
  dependencies: [EventStreams.Default, ChatSessionsRepo.Default, SessionQueries.Default]
}) {}
