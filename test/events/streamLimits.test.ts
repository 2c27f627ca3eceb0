/**
 * What an instance holds for its streams, and what it lets go: nothing left behind after clients
 * come and go; a cap per subject and per instance; slow clients disconnected; keep-alives.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { Socket } from "node:net"
import { randomUUID } from "node:crypto"
import { openStreams, streamsDropped } from "../../src/events/EventMetrics.js"
import { StreamHub } from "../../src/events/StreamHub.js"
import { Offer } from "../../src/sessions/ChatSession.js"
import { OfferMade } from "../../src/sessions/SessionEvent.js"
import { SessionEvents } from "../../src/sessions/SessionEvents.js"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { mitraToken, rawValkey } from "../support/availability.js"
import { eventually } from "../support/eventually.js"
import { createMitra } from "../support/fixtures.js"
import { get, post } from "../support/http.js"
import { counterValue } from "../support/metrics.js"
import { customerWithToken, onlineMitra } from "../support/sessions.js"
import { openEventStream } from "../support/sse.js"
import { TestApp } from "../support/TestApp.js"
import { inject } from "vitest"
import { HttpServer } from "@effect/platform"

const hubStats = Effect.flatMap(StreamHub, (hub) => hub.stats)
const gauge = (kind: string) => Effect.map(Metric.value(Metric.tagged(openStreams, "kind", kind)), (state) => state.value)

describe("streams leave nothing behind", () => {
  it.scopedLive("100 connect/disconnect cycles: no registration, subscription, gauge or socket left", () =>
    Effect.gen(function*() {
      const mitra = yield* onlineMitra()
      const customer = yield* customerWithToken
      const session = (yield* post("/api/chat-sessions", { token: customer.token })).body as { session: { id: string } }
      const { keyPrefix } = yield* ValkeyConnection
      const valkey = yield* rawValkey(inject("valkeyUrl"))
      const subscribers = Effect.promise(() => valkey.pubsub("NUMSUB", `${keyPrefix}session-events`)).pipe(
        Effect.map((reply) => Number((reply as Array<unknown>)[1]))
      )
      yield* eventually(subscribers, (n) => n === 1, "the instance never subscribed")
      const baseline = { mitra: yield* gauge("mitra"), session: yield* gauge("session"), handles: activeSockets() }

      for (let i = 0; i < 100; i++) {
        const path = i % 2 === 0 ? "/api/mitra/events" : `/api/chat-sessions/${session.session.id}/events`
        const stream = yield* openEventStream(path, { token: i % 2 === 0 ? mitra.token : customer.token })
        yield* stream.next() // registered and caught up: an offer, or the session
        yield* stream.close
      }

      yield* eventually(hubStats, (s) => s.streams === 0 && s.subjects === 0, "streams still registered after their clients left")
      expect(yield* gauge("mitra")).toBe(baseline.mitra)
      expect(yield* gauge("session")).toBe(baseline.session)
      // One subscription for the instance, however many streams came and went.
      expect(yield* subscribers).toBe(1)
      yield* eventually(Effect.sync(activeSockets), (n) => n <= baseline.handles, "sockets of closed streams are still open")
    }).pipe(Effect.provide(TestApp())), { timeout: 60_000 })
})

describe("limits", () => {
  it.scopedLive("past SSE_MAX_STREAMS_PER_SUBJECT a new stream closes the oldest with stream_closed (replaced)", () =>
    Effect.gen(function*() {
      const mitra = yield* onlineMitra()
      const streams = []
      for (let i = 0; i < 3; i++) {
        const stream = yield* openEventStream("/api/mitra/events", { token: mitra.token })
        yield* stream.nextRaw()
        yield* eventually(hubStats, (s) => s.streams === Math.min(i + 1, 2), "the stream never registered")
        streams.push(stream)
      }
      const last = yield* streams[0]!.awaitEnd()
      expect(last.at(-1)).toMatchObject({ event: "stream_closed", data: { reason: "replaced" } })
      expect(yield* hubStats).toEqual({ streams: 2, subjects: 1 })
      // The newer ones still deliver.
      const customer = yield* customerWithToken
      yield* post("/api/chat-sessions", { token: customer.token })
      expect(yield* streams[2]!.next()).toMatchObject({ event: "offer" })
    }).pipe(Effect.provide(TestApp({ env: { SSE_MAX_STREAMS_PER_SUBJECT: "2" } }))))

  it.scopedLive("past SSE_MAX_STREAMS a new stream is refused: 503 TooManyStreams, before any byte of a stream", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 2; i++) {
        const mitra = yield* onlineMitra()
        const stream = yield* openEventStream("/api/mitra/events", { token: mitra.token })
        yield* stream.nextRaw()
      }
      yield* eventually(hubStats, (s) => s.streams === 2, "the streams never registered")
      const third = yield* createMitra()
      const refused = yield* get("/api/mitra/events", { token: yield* mitraToken(third.id) })
      expect(refused.status).toBe(503)
      expect(refused.body).toMatchObject({ _tag: "TooManyStreams" })
    }).pipe(Effect.provide(TestApp({ env: { SSE_MAX_STREAMS: "2" } }))))

  it.scopedLive("an idle stream gets a keep-alive comment every SSE_KEEPALIVE_SECONDS", () =>
    Effect.gen(function*() {
      const mitra = yield* onlineMitra()
      const stream = yield* openEventStream("/api/mitra/events", { token: mitra.token })
      expect((yield* stream.nextRaw()).retry).toBeDefined()
      expect(yield* stream.nextRaw("3 seconds")).toEqual({ comment: "keep-alive" })
      expect(yield* stream.nextRaw("3 seconds")).toEqual({ comment: "keep-alive" })
    }).pipe(Effect.provide(TestApp({ env: { SSE_KEEPALIVE_SECONDS: "1" } }))))

  it.scopedLive("a client that stops reading is disconnected once its buffer is full; the instance lets it go", () =>
    Effect.gen(function*() {
      const mitra = yield* onlineMitra()
      const address = (yield* HttpServer.HttpServer).address
      if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP test server")
      // A raw client that sends the request and then never reads a byte.
      const socket = yield* Effect.acquireRelease(
        Effect.async<Socket>((resume) => {
          const s = new Socket()
          s.connect(address.port, "127.0.0.1", () => {
            s.write(`GET /api/mitra/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${mitra.token}\r\n\r\n`)
            s.pause()
            resume(Effect.succeed(s))
          })
        }),
        (s) => Effect.sync(() => s.destroy())
      )
      yield* eventually(hubStats, (s) => s.streams === 1, "the stream never registered")
      const slowBefore = yield* counterValue(streamsDropped, { reason: "slow" })
      const events = yield* SessionEvents
      const offer = new Offer({ sessionId: randomUUID(), customerId: randomUUID(), requestedAt: new Date(), offerExpiresAt: new Date() })
      // Far more than the socket buffers hold: the stream's writes wait, and its buffer fills.
      for (let batch = 0; batch < 40 && (yield* hubStats).streams > 0; batch++) {
        yield* events.publish(Array.from({ length: 1000 }, () => new OfferMade({ mitraIds: [mitra.id], offer })))
      }
      yield* eventually(hubStats, (s) => s.streams === 0, "the slow client was never let go")
      expect(yield* counterValue(streamsDropped, { reason: "slow" })).toBeGreaterThan(slowBefore)
      expect(socket.destroyed).toBe(false) // it was the server that let go, not the client
    }).pipe(Effect.provide(TestApp({ env: { SSE_CLIENT_BUFFER_EVENTS: "8" } }))), { timeout: 60_000 })
})

/** Open TCP sockets of this process (the test client's and the test server's ends alike). */
const activeSockets = () =>
  (process as unknown as { _getActiveHandles(): Array<unknown> })._getActiveHandles().filter((h) => h instanceof Socket).length

