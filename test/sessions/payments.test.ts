/**
 * The payment provider's webhook through HTTP (API.md, "Payments"), with `payment_required` on:
 * `paid` starts the session's clock, `failed` cancels it and frees the mitra's capacity; a notice is
 * taken only with the hex HMAC-SHA256 of its exact bytes under `PAYMENT_WEBHOOK_SECRET` (any hex
 * case); a body that does not decode is a 400, a replay or a late notice a 204 that changes nothing,
 * an unknown session a 404, and without a secret — unset or left blank — every notice a 503.
 * Whatever is refused leaves the session as it was.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHmac, randomUUID } from "node:crypto"
import { SessionTimers } from "../../src/sessions/SessionTimers.js"
import { mirrorState, setSetting } from "../support/availability.js"
import { get, post } from "../support/http.js"
import { customerWithToken, liveSessionsInPostgres, onlineMitra, sessionInPostgres } from "../support/sessions.js"
import { TestApp } from "../support/TestApp.js"
import { testEnvironment } from "../support/TestConfig.js"

type Session = {
  id: string
  status: string
  endReason: string | null
  paidAt: string | null
  startedAt: string | null
  expiresAt: string | null
}
const sessionOf = (body: unknown) => (body as { session: Session }).session

const secret = testEnvironment.PAYMENT_WEBHOOK_SECRET!

/** The hex HMAC-SHA256 of `body` under `key` (the configured secret by default), as the provider signs. */
const sign = (body: string, key = secret) => createHmac("sha256", key).update(body).digest("hex")

const notice = (sessionId: string, status: string) => JSON.stringify({ sessionId, status })

/** POSTs `body` as sent, with `signature` in `X-Signature` (none when undefined). */
const notify = (body: string, signature?: string) =>
  post("/api/payments/webhook", { rawJson: body, ...(signature === undefined ? {} : { headers: { "x-signature": signature } }) })

/** With `payment_required` on: a session accepted by a mitra, waiting for its payment. */
const pendingSession = Effect.gen(function*() {
  yield* setSetting("payment_required", true)
  const customer = yield* customerWithToken
  const mitra = yield* onlineMitra()
  const requested = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
  const accepted = yield* post(`/api/mitra/sessions/${requested.id}/accept`, { token: mitra.token })
  expect(accepted.status).toBe(200)
  const session = sessionOf(accepted.body)
  expect(session).toMatchObject({ status: "pending_payment", paidAt: null, startedAt: null, expiresAt: null })
  return { customer, mitra, session }
})

/** The session as its customer sees it. */
const current = (customer: { token: string }, sessionId: string) =>
  Effect.map(get(`/api/chat-sessions/${sessionId}`, { token: customer.token }), (response) => sessionOf(response.body))

describe("the payment webhook", () => {
  it.scopedLive("paid → active with its clock started; the replay and a later `failed` answer 204 and change nothing", () =>
    Effect.gen(function*() {
      const { customer, mitra, session } = yield* pendingSession
      const body = notice(session.id, "paid")
      const paid = yield* notify(body, sign(body))
      expect(paid.status).toBe(204)
      const active = yield* current(customer, session.id)
      expect(active).toMatchObject({ status: "active", endReason: null })
      expect(active.paidAt).not.toBeNull()
      expect(active.startedAt).toBe(active.paidAt)
      expect(Date.parse(active.expiresAt!) - Date.parse(active.startedAt!)).toBe(30 * 60_000)
      // The payment timeout's timer gave way to the session's end.
      expect((yield* sessionInPostgres(session.id)).deadlineAt?.toISOString()).toBe(active.expiresAt)
      expect(yield* Effect.flatMap(SessionTimers, (timers) => timers.armed)).toBe(1)
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(1)
      expect((yield* mirrorState).capacity[mitra.id]).toBe(1)

      const replay = yield* notify(body, sign(body))
      expect(replay.status).toBe(204)
      expect(yield* current(customer, session.id)).toEqual(active)
      const failedLate = notice(session.id, "failed")
      expect((yield* notify(failedLate, sign(failedLate))).status).toBe(204)
      expect(yield* current(customer, session.id)).toEqual(active)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("failed → cancelled (payment_failed), the mitra's capacity freed; a later `paid` answers 204 and changes nothing", () =>
    Effect.gen(function*() {
      const { customer, mitra, session } = yield* pendingSession
      expect((yield* mirrorState).capacity[mitra.id]).toBe(1)
      const body = notice(session.id, "failed")
      expect((yield* notify(body, sign(body))).status).toBe(204)
      const cancelled = yield* current(customer, session.id)
      expect(cancelled).toMatchObject({ status: "cancelled", endReason: "payment_failed", startedAt: null, expiresAt: null })
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(0)
      expect((yield* mirrorState).capacity[mitra.id]).toBe(0)
      expect((yield* get("/api/mitra/me", { token: mitra.token })).body).toMatchObject({ liveSessions: 0 })
      expect(yield* Effect.flatMap(SessionTimers, (timers) => timers.armed)).toBe(0)

      const paidLate = notice(session.id, "paid")
      expect((yield* notify(paidLate, sign(paidLate))).status).toBe(204)
      expect(yield* current(customer, session.id)).toEqual(cancelled)
      // The customer may ask again.
      expect((yield* post("/api/chat-sessions", { token: customer.token })).status).toBe(201)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("signatures: missing, wrong key, another body's, not hex → 401 and nothing changes; upper-case hex is accepted", () =>
    Effect.gen(function*() {
      const { customer, session } = yield* pendingSession
      const before = yield* current(customer, session.id)
      const body = notice(session.id, "paid")
      const refused: Array<[string, string | undefined]> = [
        ["missing", undefined],
        ["empty", ""],
        ["another key", sign(body, "not-the-secret")],
        ["another body", sign(notice(session.id, "failed"))],
        ["the same body with a space", sign(`${body} `)],
        ["truncated", sign(body).slice(0, 63)],
        ["not hex", "z".repeat(64)],
        ["sha256= prefix", `sha256=${sign(body)}`]
      ]
      for (const [name, signature] of refused) {
        const response = yield* notify(body, signature)
        expect({ name, status: response.status }).toEqual({ name, status: 401 })
        expect(response.body).toMatchObject({ _tag: "InvalidSignature", message: expect.any(String) })
      }
      expect(yield* current(customer, session.id)).toEqual(before)

      expect((yield* notify(body, sign(body).toUpperCase())).status).toBe(204)
      expect((yield* current(customer, session.id)).status).toBe("active")
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("bodies that do not decode, validly signed → 400 with a _tag; nothing changes", () =>
    Effect.gen(function*() {
      const { customer, session } = yield* pendingSession
      const before = yield* current(customer, session.id)
      const junk = [
        "{not json",
        "",
        "null",
        "[]",
        "\"paid\"",
        JSON.stringify({ sessionId: session.id }),
        JSON.stringify({ status: "paid" }),
        notice(session.id, "refunded"),
        notice(session.id, "PAID"),
        notice("not-a-uuid", "paid"),
        JSON.stringify({ sessionId: 42, status: "paid" }),
        JSON.stringify([{ sessionId: session.id, status: "paid" }])
      ]
      for (const body of junk) {
        const response = yield* notify(body, sign(body))
        expect({ body, status: response.status }).toEqual({ body, status: 400 })
        expect(response.body).toMatchObject({ _tag: expect.any(String), message: expect.any(String) })
      }
      expect(yield* current(customer, session.id)).toEqual(before)
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("an unknown session (signed) → 404; a session not waiting for payment (still searching) → 204 unchanged", () =>
    Effect.gen(function*() {
      yield* setSetting("payment_required", true)
      const unknown = notice(randomUUID(), "paid")
      const missing = yield* notify(unknown, sign(unknown))
      expect(missing.status).toBe(404)
      expect(missing.body).toMatchObject({ _tag: "SessionNotFound" })

      const customer = yield* customerWithToken
      const searching = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      const early = notice(searching.id, "paid")
      expect((yield* notify(early, sign(early))).status).toBe(204)
      expect((yield* current(customer, searching.id)).status).toBe("searching")
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("the customer cancels while payment is pending: cancelled, capacity freed; the late payment changes nothing", () =>
    Effect.gen(function*() {
      const { customer, mitra, session } = yield* pendingSession
      const cancelled = yield* post(`/api/chat-sessions/${session.id}/cancel`, { token: customer.token })
      expect(cancelled.status).toBe(200)
      expect(sessionOf(cancelled.body)).toMatchObject({ status: "cancelled", endReason: "customer_cancelled" })
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(0)
      expect((yield* mirrorState).capacity[mitra.id]).toBe(0)
      expect(yield* Effect.flatMap(SessionTimers, (timers) => timers.armed)).toBe(0)
      // The mitra is free again: offered the next request.
      const next = yield* customerWithToken
      const offered = sessionOf((yield* post("/api/chat-sessions", { token: next.token })).body)
      expect((yield* get("/api/mitra/offers", { token: mitra.token })).body).toMatchObject({ items: [{ sessionId: offered.id }] })

      const late = notice(session.id, "paid")
      expect((yield* notify(late, sign(late))).status).toBe(204)
      expect((yield* current(customer, session.id)).status).toBe("cancelled")
    }).pipe(Effect.provide(TestApp())))
})

describe("the payment webhook without a secret", () => {
  const notConfigured = (label: string, app: ReturnType<typeof TestApp>) =>
    it.scopedLive(`${label}: every notice → 503 PaymentsNotConfigured, the session unchanged`, () =>
      Effect.gen(function*() {
        const { customer, session } = yield* pendingSession
        const before = yield* current(customer, session.id)
        const body = notice(session.id, "paid")
        for (const signature of [sign(body, ""), sign(body), undefined]) {
          const response = yield* notify(body, signature)
          expect(response.status).toBe(503)
          expect(response.body).toMatchObject({ _tag: "PaymentsNotConfigured", message: expect.stringContaining("PAYMENT_WEBHOOK_SECRET") })
        }
        expect(yield* current(customer, session.id)).toEqual(before)
      }).pipe(Effect.provide(app)))

  notConfigured("unset", TestApp({ unset: ["PAYMENT_WEBHOOK_SECRET"] }))
  // A variable left empty is no key: an HMAC under "" is one anybody can compute.
  notConfigured("left blank", TestApp({ env: { PAYMENT_WEBHOOK_SECRET: "" } }))
  notConfigured("only spaces", TestApp({ env: { PAYMENT_WEBHOOK_SECRET: "   " } }))
})
