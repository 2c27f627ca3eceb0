/**
 * Events reach a client whichever instance it streams from (API.md, "Event streams"): two app
 * instances on one Postgres and one Valkey, the change made on one, the stream open on the other.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHmac } from "node:crypto"
import { setSetting } from "../support/availability.js"
import { post } from "../support/http.js"
import { testEnvironment } from "../support/TestConfig.js"
import { customerWithToken, onlineMitra } from "../support/sessions.js"
import { openEventStream } from "../support/sse.js"
import { twoInstances } from "./instances.js"

type Session = { id: string; status: string; reroutedFrom: string | null }
const sessionOf = (body: unknown) => (body as { session: Session }).session

describe("two instances", () => {
  it.scopedLive("an offer made on A reaches a mitra streaming from B; the loser on B gets offer_withdrawn when A's mitra wins", () =>
    Effect.gen(function*() {
      const { a, b } = yield* twoInstances()
      const onB = yield* onlineMitra().pipe(Effect.provide(b))
      const onA = yield* onlineMitra().pipe(Effect.provide(a))
      const stream = yield* openEventStream("/api/mitra/events", { token: onB.token }).pipe(Effect.provide(b))
      yield* stream.nextRaw()
      const customer = yield* customerWithToken.pipe(Effect.provide(a))
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token }).pipe(Effect.provide(a))).body)
      expect(yield* stream.next()).toMatchObject({ event: "offer", data: { offer: { sessionId: session.id } } })
      expect((yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: onA.token }).pipe(Effect.provide(a))).status).toBe(200)
      expect(yield* stream.next()).toMatchObject({ event: "offer_withdrawn", data: { sessionId: session.id, reason: "taken" } })
    }))

  it.scopedLive("the customer's stream on B follows changes made on A: accept, payment, extension, reroute hop, end", () =>
    Effect.gen(function*() {
      const { a, b } = yield* twoInstances()
      const customer = yield* customerWithToken.pipe(Effect.provide(a))
      const first = yield* onlineMitra().pipe(Effect.provide(a))
      yield* setSetting("payment_required", true).pipe(Effect.provide(a))
      const session = sessionOf((yield* post("/api/chat-sessions", { token: customer.token }).pipe(Effect.provide(a))).body)
      const stream = yield* openEventStream(`/api/chat-sessions/${session.id}/events`, { token: customer.token }).pipe(Effect.provide(b))
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: session.id, status: "searching" } } })

      yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: first.token }).pipe(Effect.provide(a))
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: session.id, status: "pending_payment" } } })
      const notice = JSON.stringify({ sessionId: session.id, status: "paid" })
      const paid = yield* post("/api/payments/webhook", {
        rawJson: notice,
        headers: { "x-signature": createHmac("sha256", testEnvironment.PAYMENT_WEBHOOK_SECRET!).update(notice).digest("hex") }
      }).pipe(Effect.provide(a))
      expect(paid.status).toBe(204)
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: session.id, status: "active" } } })
      yield* post(`/api/chat-sessions/${session.id}/extend`, { token: customer.token }).pipe(Effect.provide(a))
      expect(yield* stream.next()).toMatchObject({ data: { session: { extensionCount: 1 } } })

      const second = yield* onlineMitra().pipe(Effect.provide(b))
      yield* post("/api/mitra/status/offline", { token: first.token }).pipe(Effect.provide(a))
      const hop = yield* stream.until((f) => (f.data as { session: Session }).session.reroutedFrom === session.id)
      const successor = (hop.at(-1)!.data as { session: Session }).session
      yield* post(`/api/mitra/sessions/${successor.id}/accept`, { token: second.token }).pipe(Effect.provide(a))
      // Payment is still required: the successor waits for it, and its mitra ends it meanwhile.
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: successor.id, status: "pending_payment" } } })
      yield* post(`/api/mitra/sessions/${successor.id}/end`, { token: second.token }).pipe(Effect.provide(a))
      expect(yield* stream.next()).toMatchObject({ data: { session: { id: successor.id, status: "ended", endReason: "mitra_ended" } } })
    }))
})
