/**
 * The event streams on one instance (API.md, "Event streams"): what a mitra and a customer see on
 * connect and live, catch-up with Last-Event-ID, the end of a deactivated mitra's stream, and the
 * HTTP answers around them.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { get, patch, post } from "../support/http.js"
import { loginAsCcUser } from "../support/fixtures.js"
import { customerWithToken, onlineMitra } from "../support/sessions.js"
import { openEventStream } from "../support/sse.js"
import { TestApp } from "../support/TestApp.js"

type Session = { id: string; status: string; reroutedTo: string | null; reroutedFrom: string | null }
const sessionOf = (body: unknown) => (body as { session: Session }).session

describe("GET /api/mitra/events", () => {
  it.scopedLive("the retry hint at once; offers as they are made; offer_withdrawn when another mitra wins", () =>
    Effect.gen(function*() {
      const mitra = yield* onlineMitra()
      const rival = yield* onlineMitra()
      const stream = yield* openEventStream("/api/mitra/events", { token: mitra.token })
      expect(stream.status).toBe(200)
      expect(stream.headers["content-type"]).toContain("text/event-stream")
      expect(stream.headers["cache-control"]).toContain("no-cache")
      expect((yield* stream.nextRaw()).retry).toBe(3000)

      const customer = yield* customerWithToken
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      const offer = yield* stream.next()
      expect(offer).toMatchObject({ event: "offer", data: { offer: { sessionId: session.id, customerId: customer.id } } })
      expect(offer.id).toMatch(/^\d+-\d+$/)

      expect((yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: rival.token })).status).toBe(200)
      expect(yield* stream.next()).toMatchObject({ event: "offer_withdrawn", data: { sessionId: session.id, reason: "taken" } })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("on connect one offer per open offer; with Last-Event-ID also what closed and changed since", () =>
    Effect.gen(function*() {
      const mitra = yield* onlineMitra({ maxConcurrentSessions: 3 })
      const rival = yield* onlineMitra()
      const [a, b, c] = [yield* customerWithToken, yield* customerWithToken, yield* customerWithToken]
      const sa = sessionOf((yield* post("/api/chat-sessions", { token: a.token })).body)
      const sb = sessionOf((yield* post("/api/chat-sessions", { token: b.token })).body)

      const first = yield* openEventStream("/api/mitra/events", { token: mitra.token })
      const offers = [yield* first.next(), yield* first.next()]
      expect(offers.map((f) => (f.data as { offer: { sessionId: string } }).offer.sessionId)).toEqual([sa.id, sb.id])
      const lastId = offers[1]!.id!
      yield* first.close

      // While it is away: b is taken by the rival, a is accepted by the mitra elsewhere, c arrives.
      yield* post(`/api/mitra/sessions/${sb.id}/accept`, { token: rival.token })
      yield* post(`/api/mitra/sessions/${sa.id}/accept`, { token: mitra.token })
      const sc = sessionOf((yield* post("/api/chat-sessions", { token: c.token })).body)

      const again = yield* openEventStream("/api/mitra/events", { token: mitra.token, lastEventId: lastId })
      const caughtUp = yield* again.until((f) => f.event === "offer")
      expect(caughtUp).toEqual(expect.arrayContaining([
        expect.objectContaining({ event: "offer_withdrawn", data: { sessionId: sb.id, reason: "taken" } }),
        expect.objectContaining({ event: "session_updated", data: { session: expect.objectContaining({ id: sa.id, status: "active" }) } }),
        expect.objectContaining({ event: "offer", data: { offer: expect.objectContaining({ sessionId: sc.id }) } })
      ]))
      // Without Last-Event-ID: the open offers only.
      const fresh = yield* openEventStream("/api/mitra/events", { token: mitra.token })
      expect(yield* fresh.next()).toMatchObject({ event: "offer", data: { offer: { sessionId: sc.id } } })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("a deactivated mitra's stream ends with mitra_deactivated; a new one is refused (403)", () =>
    Effect.gen(function*() {
      const cc = yield* loginAsCcUser()
      const mitra = yield* onlineMitra()
      const stream = yield* openEventStream("/api/mitra/events", { token: mitra.token })
      yield* stream.nextRaw()
      expect((yield* patch(`/internal/mitras/${mitra.id}`, { token: cc.accessToken, json: { isActive: false } })).status).toBe(200)
      const last = yield* stream.awaitEnd()
      expect(last.at(-1)).toMatchObject({ event: "mitra_deactivated", data: { mitraId: mitra.id } })
      expect((yield* get("/api/mitra/events", { token: mitra.token })).status).toBe(403)
    }).pipe(Effect.provide(TestApp())))
})

describe("GET /api/chat-sessions/{id}/events", () => {
  it.scopedLive("follows the session through accept, extension, a reroute hop and the end", () =>
    Effect.gen(function*() {
      const customer = yield* customerWithToken
      const first = yield* onlineMitra()
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      const stream = yield* openEventStream(`/api/chat-sessions/${session.id}/events`, { token: customer.token })
      expect(yield* stream.next()).toMatchObject({ event: "session_updated", data: { session: { id: session.id, status: "searching" } } })

      yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: first.token })
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: session.id, status: "active" } } })
      yield* post(`/api/chat-sessions/${session.id}/extend`, { token: customer.token })
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: session.id, extensionCount: 1 } } })

      const second = yield* onlineMitra()
      yield* post("/api/mitra/status/offline", { token: first.token })
      const hop = yield* stream.until((f) => (f.data as { session: Session }).session.reroutedFrom === session.id)
      expect(hop[0]).toMatchObject({ data: { session: { id: session.id, status: "rerouted" } } })
      const successor = (hop.at(-1)!.data as { session: Session }).session
      expect(successor.status).toBe("searching")

      yield* post(`/api/mitra/sessions/${successor.id}/accept`, { token: second.token })
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: successor.id, status: "active" } } })
      yield* post(`/api/chat-sessions/${successor.id}/end`, { token: customer.token })
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: successor.id, status: "ended" } } })

      // Reconnecting shows the whole chain, first to last.
      const again = yield* openEventStream(`/api/chat-sessions/${session.id}/events`, { token: customer.token })
      const chain = [yield* again.next(), yield* again.next()]
      expect(chain.map((f) => (f.data as { session: Session }).session.id)).toEqual([session.id, successor.id])
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("404 for another customer's session, 401 without a token, 400 for a malformed id", () =>
    Effect.gen(function*() {
      const owner = yield* customerWithToken
      const stranger = yield* customerWithToken
      const session = sessionOf((yield* post("/api/chat-sessions", { token: owner.token })).body)
      const refused = yield* get(`/api/chat-sessions/${session.id}/events`, { token: stranger.token })
      expect(refused.status).toBe(404)
      expect(refused.body).toMatchObject({ _tag: "SessionNotFound" })
      expect((yield* get(`/api/chat-sessions/${session.id}/events`)).status).toBe(401)
      expect((yield* get("/api/chat-sessions/nope/events", { token: owner.token })).status).toBe(400)
    }).pipe(Effect.provide(TestApp())))
})

describe("in-memory mode (no VALKEY_URL)", () => {
  it.scopedLive("events are delivered within the one process", () =>
    Effect.gen(function*() {
      const mitra = yield* onlineMitra()
      const stream = yield* openEventStream("/api/mitra/events", { token: mitra.token })
      yield* stream.nextRaw()
      const customer = yield* customerWithToken
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      expect(yield* stream.next()).toMatchObject({ event: "offer", data: { offer: { sessionId: session.id } } })
    }).pipe(Effect.provide(TestApp({ store: "memory", valkey: Layer.succeed(ValkeyConnection, ValkeyConnection.disabled) }))))
})
