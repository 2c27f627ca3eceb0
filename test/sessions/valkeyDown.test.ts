/**
 * Sessions while Valkey is down (issue 10, "Bad input and faults"): with the failing mirror (every
 * Valkey operation fails) a request is still blasted — `findAvailableMitras` answers from Postgres
 * — and accept, decline, extend, end, the reroute and the timers all work, with capacity derived
 * from Postgres; and against a real Valkey that dies and comes back, the capacity keys written
 * while it was gone catch up with Postgres once it answers again.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { availabilityFallbacks } from "../../src/availability/AvailabilityMetrics.js"
import { MirrorInspector } from "../../src/availability/store/MirrorInspector.js"
import { Pairing } from "../../src/sessions/Pairing.js"
import { SessionTimers } from "../../src/sessions/SessionTimers.js"
import { eventually } from "../support/eventually.js"
import { get, post } from "../support/http.js"
import { counterValue } from "../support/metrics.js"
import {
  awaitArmed,
  customerWithToken,
  liveSessionsInPostgres,
  offersInPostgres,
  onlineMitra,
  sessionInPostgres,
  successorOf
} from "../support/sessions.js"
import { TestApp } from "../support/TestApp.js"
import { TestServicesLive } from "../support/TestInfrastructure.js"
import { testValkeyConnection } from "../support/TestValkey.js"
import { startValkeyServer } from "../support/valkeyServer.js"
import { startClockAtRealTime } from "../sweeps/kit.js"

type Session = { id: string; status: string; mitraId: string | null; endReason: string | null; extensionCount: number }
const sessionOf = (body: unknown) => (body as { session: Session }).session

const pairingFallbacks = counterValue(availabilityFallbacks, { operation: "findAvailableMitras" })

describe("sessions with the failing Valkey layer", () => {
  it.scopedLive("request (blast from Postgres), decline, accept, extend, end, a second blast and a reroute all work", () =>
    Effect.gen(function*() {
      const [first, second] = [yield* onlineMitra(), yield* onlineMitra()]
      const customer = yield* customerWithToken

      const fallbacks = yield* pairingFallbacks
      const requested = yield* post("/api/chat-sessions", { token: customer.token })
      expect(requested.status).toBe(201)
      const session = sessionOf(requested.body)
      expect(yield* pairingFallbacks).toBeGreaterThan(fallbacks)
      expect(yield* offersInPostgres(session.id)).toEqual(expect.arrayContaining([
        { mitraId: first.id, status: "open", reason: null },
        { mitraId: second.id, status: "open", reason: null }
      ]))
      expect((yield* get("/api/mitra/offers", { token: first.token })).body).toMatchObject({ items: [{ sessionId: session.id }] })

      expect((yield* post(`/api/mitra/offers/${session.id}/decline`, { token: second.token })).status).toBe(204)
      const accepted = yield* post(`/api/mitra/sessions/${session.id}/accept`, { token: first.token })
      expect(accepted.status).toBe(200)
      expect(sessionOf(accepted.body)).toMatchObject({ status: "active", mitraId: first.id })
      expect(yield* liveSessionsInPostgres(first.id)).toBe(1)
      expect((yield* get("/api/mitra/me", { token: first.token })).body).toMatchObject({ liveSessions: 1 })
      // At capacity (counted in Postgres): the next request is offered to the other mitra only.
      const other = yield* customerWithToken
      const meanwhile = sessionOf((yield* post("/api/chat-sessions", { token: other.token })).body)
      expect(yield* offersInPostgres(meanwhile.id)).toEqual([{ mitraId: second.id, status: "open", reason: null }])
      expect((yield* post(`/api/chat-sessions/${meanwhile.id}/cancel`, { token: other.token })).status).toBe(200)

      const extended = yield* post(`/api/chat-sessions/${session.id}/extend`, { token: customer.token })
      expect(sessionOf(extended.body).extensionCount).toBe(1)
      const ended = yield* post(`/api/mitra/sessions/${session.id}/end`, { token: first.token })
      expect(sessionOf(ended.body)).toMatchObject({ status: "ended", endReason: "mitra_ended" })
      expect(yield* liveSessionsInPostgres(first.id)).toBe(0)

      // Free again: offered the next request; it takes it, then goes offline, and the session is rerouted.
      const again = sessionOf((yield* post("/api/chat-sessions", { token: customer.token })).body)
      expect((yield* offersInPostgres(again.id)).map((offer) => offer.mitraId).sort()).toEqual([first.id, second.id].sort())
      expect((yield* post(`/api/mitra/sessions/${again.id}/accept`, { token: first.token })).status).toBe(200)
      expect((yield* post("/api/mitra/status/offline", { token: first.token })).status).toBe(200)
      expect(yield* sessionInPostgres(again.id)).toMatchObject({ status: "rerouted", endReason: "mitra_went_offline" })
      const [successor] = yield* successorOf(again.id)
      expect(yield* offersInPostgres(successor!.id)).toEqual([{ mitraId: second.id, status: "open", reason: null }])
      expect(yield* liveSessionsInPostgres(first.id)).toBe(0)
    }).pipe(Effect.provide(TestApp({ store: "failing" }))))

  it.scoped("the timers: the pairing timeout and the end of an active session are applied, capacity counted in Postgres", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      const pairing = yield* Pairing
      const timers = yield* SessionTimers
      const mitra = yield* onlineMitra()
      const [waiting, talking] = [yield* customerWithToken, yield* customerWithToken]
      const active = yield* pairing.request(talking.id)
      yield* pairing.accept(mitra.id, active.id)
      // The mitra is full: nobody is offered this one, and it waits out its pairing timeout.
      const searching = yield* pairing.request(waiting.id)
      expect(yield* offersInPostgres(searching.id)).toEqual([])
      expect(yield* timers.armed).toBe(2)

      yield* TestClock.adjust(Duration.seconds(60))
      yield* awaitArmed(timers, 1)
      expect(yield* sessionInPostgres(searching.id)).toMatchObject({ status: "unmatched", endReason: "no_mitra_accepted" })
      expect((yield* sessionInPostgres(active.id)).status).toBe("active")

      yield* TestClock.adjust(Duration.minutes(30))
      yield* awaitArmed(timers, 0)
      expect(yield* sessionInPostgres(active.id)).toMatchObject({ status: "expired", endReason: "expired" })
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(0)
    }).pipe(Effect.provide(TestServicesLive({ store: "failing" }))))
})

describe("sessions across a Valkey restart", () => {
  it.scopedLive("capacity changed while Valkey was down is in the mirror once it is back, equal to Postgres", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startValkeyServer()), (s) => Effect.promise(() => s.stop()))
      yield* Effect.gen(function*() {
        const inspector = yield* MirrorInspector
        const busy = yield* onlineMitra({ maxConcurrentSessions: 2 })
        const idle = yield* onlineMitra()
        const [c1, c2, c3] = [yield* customerWithToken, yield* customerWithToken, yield* customerWithToken]
        expect((yield* inspector.readState).capacity).toMatchObject({ [busy.id]: 0, [idle.id]: 0 })

        yield* Effect.promise(() => server.stop())
        // While it is gone: two sessions for `busy`, one ended; one for `idle`, ended.
        const s1 = sessionOf((yield* post("/api/chat-sessions", { token: c1.token })).body)
        expect((yield* post(`/api/mitra/sessions/${s1.id}/accept`, { token: busy.token })).status).toBe(200)
        const s2 = sessionOf((yield* post("/api/chat-sessions", { token: c2.token })).body)
        expect((yield* post(`/api/mitra/sessions/${s2.id}/accept`, { token: busy.token })).status).toBe(200)
        expect((yield* post(`/api/chat-sessions/${s2.id}/end`, { token: c2.token })).status).toBe(200)
        const s3 = sessionOf((yield* post("/api/chat-sessions", { token: c3.token })).body)
        expect((yield* post(`/api/mitra/sessions/${s3.id}/accept`, { token: idle.token })).status).toBe(200)
        expect((yield* post(`/api/mitra/sessions/${s3.id}/end`, { token: idle.token })).status).toBe(200)
        expect(yield* liveSessionsInPostgres(busy.id)).toBe(1)
        expect(yield* liveSessionsInPostgres(idle.id)).toBe(0)

        // Back, empty: the reconnect reseeds the mirror from Postgres.
        yield* Effect.promise(() => server.start())
        const state = yield* eventually(
          Effect.option(inspector.readState),
          // The seed writes the capacity keys before it swaps the online set in: wait for both.
          (state) =>
            Option.isSome(state) && state.value.capacity[busy.id] !== undefined && state.value.capacity[idle.id] !== undefined &&
            state.value.online.length === 2,
          "the capacity keys did not come back after the restart",
          { every: Duration.millis(50) }
        )
        expect(Option.map(state, (s) => [s.capacity[busy.id], s.capacity[idle.id]])).toEqual(Option.some([1, 0]))
        expect(Option.map(state, (s) => [...s.online].sort())).toEqual(Option.some([busy.id, idle.id].sort()))

        // And from here on every change is mirrored at once again.
        expect((yield* post(`/api/chat-sessions/${s1.id}/end`, { token: c1.token })).status).toBe(200)
        expect((yield* inspector.readState).capacity[busy.id]).toBe(0)
      }).pipe(Effect.provide(TestApp({ valkey: testValkeyConnection({ url: server.url }) })))
    }), 60_000)
})
