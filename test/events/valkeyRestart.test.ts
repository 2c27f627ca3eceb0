/**
 * A real Valkey killed and restarted under two instances loses no offer: while the pub/sub
 * connection is down the streams re-read Postgres periodically, and when it comes back they all
 * catch up at once (docs/events.md, "Failure behaviour").
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { StreamHub } from "../../src/events/StreamHub.js"
import { eventually } from "../support/eventually.js"
import { post } from "../support/http.js"
import { customerWithToken, onlineMitra } from "../support/sessions.js"
import { openEventStream, type SseFrame } from "../support/sse.js"
import { startValkeyServer } from "../support/valkeyServer.js"
import { twoInstances } from "./instances.js"

const offeredSession = (frame: SseFrame) => (frame.data as { offer: { sessionId: string } }).offer.sessionId

describe("Valkey killed and restarted under two instances", () => {
  it.scopedLive("every offer reaches the mitra streaming from the other instance: live, during the outage, after it", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startValkeyServer()), (s) => Effect.promise(() => s.stop()))
      const { a, b } = yield* twoInstances({ valkeyUrl: server.url, env: { SSE_DEGRADED_CATCHUP_SECONDS: "1" } })
      const mitra = yield* onlineMitra({ maxConcurrentSessions: 5 }).pipe(Effect.provide(a))
      const stream = yield* openEventStream("/api/mitra/events", { token: mitra.token }).pipe(Effect.provide(b))
      yield* stream.nextRaw()
      const request = Effect.gen(function*() {
        const customer = yield* customerWithToken
        const response = yield* post("/api/chat-sessions", { token: customer.token })
        expect(response.status).toBe(201)
        return (response.body as { session: { id: string } }).session.id
      }).pipe(Effect.provide(a))
      const offersUntil = (sessionId: string) =>
        Effect.map(stream.until((f) => f.event === "offer" && offeredSession(f) === sessionId, "10 seconds"), (frames) =>
          frames.filter((f) => f.event === "offer").map(offeredSession))

      const live = yield* request
      expect(yield* offersUntil(live)).toContain(live)

      yield* Effect.promise(() => server.stop())
      yield* eventually(Effect.flatMap(StreamHub, (hub) => hub.isConnected).pipe(Effect.provide(b)), (up) => !up, "B never saw its subscription drop")
      const duringOutage = yield* request
      expect(yield* offersUntil(duringOutage)).toContain(duringOutage)

      yield* Effect.promise(() => server.start())
      yield* eventually(Effect.flatMap(StreamHub, (hub) => hub.isConnected).pipe(Effect.provide(b)), (up) => up, "B never subscribed again")
      const afterwards = yield* request
      expect(yield* offersUntil(afterwards)).toContain(afterwards)
    }), { timeout: 60_000 })
})
