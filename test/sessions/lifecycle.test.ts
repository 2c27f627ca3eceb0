/**
 * The whole life of a chat session through HTTP (API.md: Customer, Mitra, Control center): the
 * request and its blast, offers and declines, the first accept winning, extend and end, cancel,
 * and each conflict answered with a `_tag` that says why.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mirrorState } from "../support/availability.js"
import { loginAsCcUser } from "../support/fixtures.js"
import { get, patch, post } from "../support/http.js"
import { customerWithToken, liveSessionsInPostgres, offersInPostgres, onlineMitra } from "../support/sessions.js"
import { TestApp } from "../support/TestApp.js"

type Session = { id: string; status: string; mitraId: string | null; endReason: string | null; extensionCount: number; expiresAt: string | null }
const sessionOf = (body: unknown) => (body as { session: Session }).session

describe("a chat session through HTTP", () => {
  it.scopedLive("request → blast → accept (others withdrawn) → extend → end by the customer", () =>
    Effect.gen(function*() {
      const customer = yield* customerWithToken
      const first = yield* onlineMitra()
      const second = yield* onlineMitra()
      const requested = yield* post("/api/chat-sessions", { token: customer.token })
      expect(requested.status).toBe(201)
      const session = sessionOf(requested.body)
      expect(session).toMatchObject({ status: "searching", mitraId: null, customerId: customer.id, reroutedFrom: null })

      for (const mitra of [first, second]) {
        const offers = yield* get("/api/mitra/offers", { token: mitra.token })
        expect(offers.status).toBe(200)
        expect(offers.body).toEqual({ items: [expect.objectContaining({ sessionId: session.id, customerId: customer.id })] })
      }

      // One open session per customer.
      const again = yield* post("/api/chat-sessions", { token: customer.token })
      expect(again.status).toBe(409)
      expect(again.body).toMatchObject({ _tag: "OpenSessionExists", sessionId: session.id })

      const accepted = yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: first.token })
      expect(accepted.status).toBe(200)
      expect(sessionOf(accepted.body)).toMatchObject({ id: session.id, status: "active", mitraId: first.id })
      expect(sessionOf(accepted.body).expiresAt).not.toBeNull()

      const lost = yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: second.token })
      expect(lost.status).toBe(409)
      expect(lost.body).toMatchObject({ _tag: "SessionTaken" })
      expect((yield* get("/api/mitra/offers", { token: second.token })).body).toEqual({ items: [] })
      expect(yield* offersInPostgres(session.id)).toEqual(expect.arrayContaining([
        { mitraId: first.id, status: "accepted", reason: null },
        { mitraId: second.id, status: "withdrawn", reason: "taken" }
      ]))

      // Capacity: Postgres, the mirror and /api/mitra/me agree.
      expect(yield* liveSessionsInPostgres(first.id)).toBe(1)
      expect((yield* mirrorState).capacity[first.id]).toBe(1)
      expect((yield* get("/api/mitra/me", { token: first.token })).body).toMatchObject({ liveSessions: 1 })
      expect((yield* get("/api/availability")).body).toMatchObject({ available: 1 })

      const extended = yield* post(`/api/chat-sessions/${session.id}/extend`, { token: customer.token })
      expect(extended.status).toBe(200)
      expect(sessionOf(extended.body).extensionCount).toBe(1)
      expect(Date.parse(sessionOf(extended.body).expiresAt!) - Date.parse(sessionOf(accepted.body).expiresAt!)).toBe(15 * 60_000)

      const cannotCancel = yield* post(`/api/chat-sessions/${session.id}/cancel`, { token: customer.token })
      expect(cannotCancel.status).toBe(409)
      expect(cannotCancel.body).toMatchObject({ _tag: "SessionNotCancellable", status: "active" })

      const ended = yield* post(`/api/chat-sessions/${session.id}/end`, { token: customer.token })
      expect(ended.status).toBe(200)
      expect(sessionOf(ended.body)).toMatchObject({ status: "ended", endReason: "customer_ended" })
      expect(yield* liveSessionsInPostgres(first.id)).toBe(0)
      expect((yield* mirrorState).capacity[first.id]).toBe(0)

      const endedTwice = yield* post(`/api/chat-sessions/${session.id}/end`, { token: customer.token })
      expect(endedTwice.status).toBe(409)
      expect(endedTwice.body).toMatchObject({ _tag: "SessionNotLive", status: "ended" })

      // The customer may ask again now.
      expect((yield* post("/api/chat-sessions", { token: customer.token })).status).toBe(201)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("the mitra ends it; the lists show each side its own sessions, newest first, paged", () =>
    Effect.gen(function*() {
      const mitra = yield* onlineMitra({ maxConcurrentSessions: 5 })
      const ids: Array<string> = []
      for (let i = 0; i < 3; i++) {
        const customer = yield* customerWithToken
        const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
        ids.push(session.id)
        expect((yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: mitra.token })).status).toBe(200)
        if (i === 0) {
          const ended = yield* post(`/api/mitra/sessions/${session.id}/end`, { token: mitra.token })
          expect(sessionOf(ended.body)).toMatchObject({ status: "ended", endReason: "mitra_ended" })
          // Another customer's session is a 404 for this customer, as if it did not exist.
          const stranger = yield* customerWithToken
          expect((yield* get(`/api/chat-sessions/${session.id}`, { token: stranger.token })).status).toBe(404)
          expect((yield* post(`/api/chat-sessions/${session.id}/end`, { token: stranger.token })).status).toBe(404)
          expect((yield* get(`/api/chat-sessions/${session.id}`, { token: customer.token })).status).toBe(200)
        }
      }
      const page1 = yield* get("/api/mitra/sessions?limit=2", { token: mitra.token })
      expect(page1.status).toBe(200)
      const body1 = page1.body as { items: Array<Session>; nextCursor: string | null }
      expect(body1.items.map((s) => s.id)).toEqual([ids[2], ids[1]])
      const page2 = yield* get(`/api/mitra/sessions?limit=2&cursor=${body1.nextCursor}`, { token: mitra.token })
      expect((page2.body as { items: Array<Session>; nextCursor: string | null })).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null })
      const active = yield* get("/api/mitra/sessions?status=active", { token: mitra.token })
      expect((active.body as { items: Array<Session> }).items.map((s) => s.id).sort()).toEqual([ids[1], ids[2]].sort())

      // Another mitra cannot end it.
      const other = yield* onlineMitra()
      expect((yield* post(`/api/mitra/sessions/${ids[1]}/end`, { token: other.token })).status).toBe(404)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("decline: never offered again; a second decline and an accept after it are refused", () =>
    Effect.gen(function*() {
      const customer = yield* customerWithToken
      const mitra = yield* onlineMitra()
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      expect((yield* post(`/api/mitra/offers/${session.id}/decline`, { token: mitra.token })).status).toBe(204)
      const twice = yield* post(`/api/mitra/offers/${session.id}/decline`, { token: mitra.token })
      expect(twice.status).toBe(404)
      expect(twice.body).toMatchObject({ _tag: "OfferNotFound" })
      const accept = yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: mitra.token })
      expect(accept.status).toBe(409)
      expect(accept.body).toMatchObject({ _tag: "NoOpenOffer" })
      expect((yield* get("/api/mitra/offers", { token: mitra.token })).body).toEqual({ items: [] })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("cancel while searching withdraws every offer; an accept after it is SessionNotSearching", () =>
    Effect.gen(function*() {
      const customer = yield* customerWithToken
      const mitra = yield* onlineMitra()
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      const cancelled = yield* post(`/api/chat-sessions/${session.id}/cancel`, { token: customer.token })
      expect(cancelled.status).toBe(200)
      expect(sessionOf(cancelled.body)).toMatchObject({ status: "cancelled", endReason: "customer_cancelled" })
      expect(yield* offersInPostgres(session.id)).toEqual([{ mitraId: mitra.id, status: "withdrawn", reason: "cancelled" }])
      const late = yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: mitra.token })
      expect(late.status).toBe(409)
      expect(late.body).toMatchObject({ _tag: "SessionNotSearching", status: "cancelled" })
      const extend = yield* post(`/api/chat-sessions/${session.id}/extend`, { token: customer.token })
      expect(extend.body).toMatchObject({ _tag: "SessionNotActive" })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("a mitra at capacity or offline is offered nothing; accepting past the maximum is NoFreeCapacity", () =>
    Effect.gen(function*() {
      const busy = yield* onlineMitra()
      const offline = yield* onlineMitra()
      expect((yield* post("/api/mitra/status/offline", { token: offline.token })).status).toBe(200)
      const first = yield* customerWithToken
      const s1 = sessionOf((yield* post("/api/chat-sessions", { token: first.token })).body)
      expect((yield* post(`/api/mitra/sessions/${s1.id}/accept`, { token: busy.token })).status).toBe(200)
      const free = yield* onlineMitra()
      const second = yield* customerWithToken
      const s2 = sessionOf((yield* post("/api/chat-sessions", { token: second.token })).body)
      expect(yield* offersInPostgres(s2.id)).toEqual([{ mitraId: free.id, status: "open", reason: null }])
      expect((yield* get("/api/mitra/offers", { token: offline.token })).body).toEqual({ items: [] })
      const notOffered = yield* post(`/api/mitra/sessions/${s2.id}/accept`, { token: busy.token })
      expect(notOffered.status).toBe(409)
      expect(notOffered.body).toMatchObject({ _tag: "NoOpenOffer" })

      // Offered two sessions while free, it takes one; the other would put it over its maximum.
      const third = yield* customerWithToken
      const fourth = yield* customerWithToken
      const s3 = sessionOf((yield* post("/api/chat-sessions", { token: third.token })).body)
      const s4 = sessionOf((yield* post("/api/chat-sessions", { token: fourth.token })).body)
      expect((yield* post(`/api/mitra/sessions/${s3.id}/accept`, { token: free.token })).status).toBe(200)
      const full = yield* post(`/api/mitra/sessions/${s4.id}/accept`, { token: free.token })
      expect(full.status).toBe(409)
      expect(full.body).toMatchObject({ _tag: "NoFreeCapacity", liveSessions: 1, maxConcurrentSessions: 1 })
      expect(yield* liveSessionsInPostgres(free.id)).toBe(1)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("max_extensions: the fourth extension is MaxExtensionsReached", () =>
    Effect.gen(function*() {
      const customer = yield* customerWithToken
      const mitra = yield* onlineMitra()
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: mitra.token })
      for (let i = 1; i <= 3; i++) {
        const extended = yield* post(`/api/chat-sessions/${session.id}/extend`, { token: customer.token })
        expect(sessionOf(extended.body).extensionCount).toBe(i)
      }
      const refused = yield* post(`/api/chat-sessions/${session.id}/extend`, { token: customer.token })
      expect(refused.status).toBe(409)
      expect(refused.body).toMatchObject({ _tag: "MaxExtensionsReached" })
    }).pipe(Effect.provide(TestApp())))
})

describe("going offline or being deactivated reroutes live sessions", () => {
  it.scopedLive("manual offline: the session is rerouted to a successor offered to the others, never to the one that left", () =>
    Effect.gen(function*() {
      const customer = yield* customerWithToken
      const leaving = yield* onlineMitra()
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: leaving.token })
      const other = yield* onlineMitra()
      const pending = yield* customerWithToken
      const unrelated = sessionOf((yield* post("/api/chat-sessions", { token: pending.token })).body)
      expect(yield* offersInPostgres(unrelated.id)).toEqual([{ mitraId: other.id, status: "open", reason: null }])

      expect((yield* post("/api/mitra/status/offline", { token: leaving.token })).body).toEqual({ isOnline: false })
      const old = sessionOf((yield* get(`/api/chat-sessions/${session.id}`, { token: customer.token })).body) as Session & { reroutedTo: string }
      expect(old).toMatchObject({ status: "rerouted", endReason: "mitra_went_offline" })
      const successor = sessionOf((yield* get(`/api/chat-sessions/${old.reroutedTo}`, { token: customer.token })).body)
      expect(successor).toMatchObject({ status: "searching", reroutedFrom: session.id })
      expect(yield* offersInPostgres(successor.id)).toEqual([{ mitraId: other.id, status: "open", reason: null }])
      expect(yield* liveSessionsInPostgres(leaving.id)).toBe(0)
      expect((yield* mirrorState).capacity[leaving.id]).toBe(0)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("deactivation: live sessions rerouted, open offers withdrawn (mitra_unavailable)", () =>
    Effect.gen(function*() {
      const cc = yield* loginAsCcUser()
      const mitra = yield* onlineMitra({ maxConcurrentSessions: 2 })
      const a = yield* customerWithToken
      const b = yield* customerWithToken
      const live = sessionOf((yield* post("/api/chat-sessions", { token: a.token })).body)
      yield* post(`/api/mitra/sessions/${live.id}/accept`, { token: mitra.token })
      const offered = sessionOf((yield* post("/api/chat-sessions", { token: b.token })).body)
      const patched = yield* call("PATCH", `/internal/mitras/${mitra.id}`, cc.accessToken, { isActive: false })
      expect(patched.status).toBe(200)
      const old = sessionOf((yield* get(`/api/chat-sessions/${live.id}`, { token: a.token })).body)
      expect(old).toMatchObject({ status: "rerouted", endReason: "mitra_deactivated" })
      expect(yield* offersInPostgres(offered.id)).toEqual([{ mitraId: mitra.id, status: "withdrawn", reason: "mitra_unavailable" }])
      const events = yield* get(`/internal/mitras/${mitra.id}/status-events?limit=1`, { token: cc.accessToken })
      expect(events.status).toBe(200)
      expect(events.body).toMatchObject({ items: [{ event: "offline", reason: "deactivated" }] })
      const rest = yield* get(`/internal/mitras/${mitra.id}/status-events?cursor=${(events.body as { nextCursor: string }).nextCursor}`, {
        token: cc.accessToken
      })
      expect(rest.body).toMatchObject({ items: [{ event: "deactivated", reason: "admin" }, { event: "online", reason: "manual" }], nextCursor: null })
    }).pipe(Effect.provide(TestApp())))
})

describe("the control center's session routes", () => {
  it.scopedLive("list with filters and cursor, one session with its offers; sessions:read required", () =>
    Effect.gen(function*() {
      const cc = yield* loginAsCcUser()
      const customer = yield* customerWithToken
      const mitra = yield* onlineMitra()
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: mitra.token })
      const other = yield* customerWithToken
      const searching = sessionOf((yield* post("/api/chat-sessions", { token: other.token })).body)

      const all = yield* get("/internal/chat-sessions", { token: cc.accessToken })
      expect(all.status).toBe(200)
      expect((all.body as { items: Array<Session> }).items.map((s) => s.id)).toEqual([searching.id, session.id])
      const byMitra = yield* get(`/internal/chat-sessions?mitraId=${mitra.id}`, { token: cc.accessToken })
      expect((byMitra.body as { items: Array<Session> }).items.map((s) => s.id)).toEqual([session.id])
      const byCustomer = yield* get(`/internal/chat-sessions?customerId=${other.id}&status=searching`, { token: cc.accessToken })
      expect((byCustomer.body as { items: Array<Session> }).items.map((s) => s.id)).toEqual([searching.id])
      const paged = yield* get("/internal/chat-sessions?limit=1", { token: cc.accessToken })
      const next = yield* get(`/internal/chat-sessions?limit=1&cursor=${(paged.body as { nextCursor: string }).nextCursor}`, {
        token: cc.accessToken
      })
      expect((next.body as { items: Array<Session> }).items.map((s) => s.id)).toEqual([session.id])

      const one = yield* get(`/internal/chat-sessions/${session.id}`, { token: cc.accessToken })
      expect(one.status).toBe(200)
      expect(one.body).toMatchObject({ session: { id: session.id, status: "active" }, offers: [{ mitraId: mitra.id, status: "accepted" }] })

      const dashboard = yield* get("/internal/dashboard", { token: cc.accessToken })
      expect(dashboard.body).toMatchObject({ liveSessions: 1, searching: 1 })

      const noPermission = yield* loginAsCcUser({ permissions: { mitra: ["read"] } })
      for (const path of ["/internal/chat-sessions", `/internal/chat-sessions/${session.id}`]) {
        const refused = yield* get(path, { token: noPermission.accessToken })
        expect(refused.status).toBe(403)
      }
      expect((yield* get(`/internal/chat-sessions/${crypto.randomUUID()}`, { token: cc.accessToken })).status).toBe(404)
    }).pipe(Effect.provide(TestApp())))
})

describe("bad input", () => {
  it.scopedLive("malformed ids, cursors, statuses and limits are 400; no token 401; wrong kind of token 401", () =>
    Effect.gen(function*() {
      const customer = yield* customerWithToken
      const mitra = yield* onlineMitra()
      const cc = yield* loginAsCcUser()
      const cases: Array<[string, string, string]> = [
        ["GET", "/api/chat-sessions/not-a-uuid", customer.token],
        ["POST", "/api/chat-sessions/not-a-uuid/cancel", customer.token],
        ["GET", "/api/chat-sessions?status=bogus", customer.token],
        ["GET", "/api/chat-sessions?limit=0", customer.token],
        ["GET", "/api/chat-sessions?limit=101", customer.token],
        ["GET", "/api/chat-sessions?cursor=garbage", customer.token],
        ["POST", "/api/mitra/sessions/123/accept", mitra.token],
        ["POST", "/api/mitra/offers/xyz/decline", mitra.token],
        ["GET", "/api/mitra/sessions?limit=abc", mitra.token],
        ["GET", "/internal/chat-sessions?mitraId=nope", cc.accessToken],
        ["GET", "/internal/chat-sessions?cursor=W10", cc.accessToken],
        ["GET", `/internal/mitras/${mitra.id}/status-events?cursor=LTE`, cc.accessToken]
      ]
      for (const [method, path, token] of cases) {
        const response = yield* call(method, path, token)
        expect({ path, status: response.status }).toEqual({ path, status: 400 })
        expect(response.body).toMatchObject({ _tag: expect.any(String), message: expect.any(String) })
      }
      expect((yield* post("/api/chat-sessions")).status).toBe(401)
      expect((yield* post("/api/chat-sessions", { token: mitra.token })).status).toBe(401)
      expect((yield* get("/api/mitra/offers", { token: customer.token })).status).toBe(401)
      // A body on a route that takes none is ignored if it is JSON, refused if it is not.
      expect((yield* post("/api/chat-sessions", { token: customer.token, rawJson: "{" })).status).toBe(400)
      expect((yield* get("/api/chat-sessions", { token: customer.token })).body).toMatchObject({ items: [] })
    }).pipe(Effect.provide(TestApp())))
})

/** One authenticated call by method name (the table-driven cases). */
const call = (method: string, path: string, token: string, json?: unknown) =>
  method === "GET" ? get(path, { token }) : method === "PATCH" ? patch(path, { token, json }) : post(path, { token })
