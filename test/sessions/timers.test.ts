/**
 * The timed transitions of a session (ARCHITECTURE.md section 4, "Timers"), on the `TestClock`:
 * each deadline applied by this instance's timer — the pairing timeout, the payment timeout, the
 * end of an active session — with its capacity freed in Postgres and in `mitra:capacity:<id>`; an
 * extension making another instance's old timer a no-op; a timer and the due-deadline sweep racing
 * and applying a transition once; the sweep applying a deadline whose timer died with its instance,
 * and rerouting live sessions whose mitra left without the reroute happening.
 *
 * And one real restart (real time, no sweep running): a pending deadline survives the process
 * that armed it, because start-up restores the timers from Postgres.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Layer, Queue, TestClock } from "effect"
import { AvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { Pairing } from "../../src/sessions/Pairing.js"
import { SessionActions } from "../../src/sessions/SessionActions.js"
import type { SessionEvent } from "../../src/sessions/SessionEvent.js"
import { type EventDelivery, SessionEvents } from "../../src/sessions/SessionEvents.js"
import { SessionTimers } from "../../src/sessions/SessionTimers.js"
import { SessionDeadlineSweep } from "../../src/sweeps/SessionDeadlineSweep.js"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { mirrorState, seedMirror, setSetting } from "../support/availability.js"
import { eventually } from "../support/eventually.js"
import { post } from "../support/http.js"
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
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { TestServices, TestServicesLive } from "../support/TestInfrastructure.js"
import { startClockAtRealTime } from "../sweeps/kit.js"

/**
 * The services, and the due-deadline sweep over the same timers and rerouting. Events in process:
 * the tests count what was announced, so each must be there when its change returns.
 */
const TimersLive = () => SessionDeadlineSweep.DefaultWithoutDependencies.pipe(Layer.provideMerge(TestServicesLive({ events: "in-process" })))

/**
 * Another instance of the service — its own services, timers and events — over this test's
 * Postgres and Valkey connection (same key prefix: one shared mirror), alive until the scope that
 * built it closes. Closing that scope is the instance dying: its timers die with it.
 */
const otherInstance = Effect.gen(function*() {
  const connection = yield* ValkeyConnection
  return yield* Layer.build(
    TestServices.pipe(
      Layer.provideMerge(Layer.mergeAll(AvailabilityStoreLive, SessionEvents.InProcess)),
      Layer.provide(Layer.succeed(ValkeyConnection, connection))
    )
  )
})

/** `count` calls of the step a timer and the sweep both take for a session, to run at once. */
const racers = (timers: SessionTimers, sessionId: string, count: number) => Array.from({ length: count }, () => timers.applyDue(sessionId))

const capacityInMirror = (mitraId: string) => Effect.map(mirrorState, (state) => state.capacity[mitraId])

describe("session timers on the TestClock", () => {
  it.scoped("pairing timeout: the session is unmatched (no_mitra_accepted), its open offers expired, a declined one left alone", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      yield* seedMirror
      const pairing = yield* Pairing
      const timers = yield* SessionTimers
      const [a, b, declining] = [yield* onlineMitra(), yield* onlineMitra(), yield* onlineMitra()]
      const customer = yield* customerWithToken
      const session = yield* pairing.request(customer.id)
      yield* pairing.decline(declining.id, session.id)
      expect(yield* timers.armed).toBe(1)

      // One second short of the timeout: the timer sleeps on.
      yield* TestClock.adjust(Duration.seconds(59))
      expect((yield* sessionInPostgres(session.id)).status).toBe("searching")
      expect(yield* timers.armed).toBe(1)

      yield* TestClock.adjust(Duration.seconds(1))
      yield* awaitArmed(timers, 0)
      expect(yield* sessionInPostgres(session.id)).toMatchObject({ status: "unmatched", endReason: "no_mitra_accepted", deadlineAt: null })
      expect(yield* offersInPostgres(session.id)).toEqual(expect.arrayContaining([
        { mitraId: a.id, status: "expired", reason: "no_mitra_accepted" },
        { mitraId: b.id, status: "expired", reason: "no_mitra_accepted" },
        { mitraId: declining.id, status: "declined", reason: null }
      ]))
      expect(yield* pairing.openOffers(a.id)).toEqual([])
      // The customer may ask again.
      expect((yield* pairing.request(customer.id)).status).toBe("searching")
    }).pipe(Effect.provide(TimersLive())))

  it.scoped("payment timeout: an unpaid session is cancelled (payment_timeout) and the mitra's capacity freed in Postgres and the mirror", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      yield* seedMirror
      yield* setSetting("payment_required", true)
      const pairing = yield* Pairing
      const timers = yield* SessionTimers
      const mitra = yield* onlineMitra()
      const customer = yield* customerWithToken
      const session = yield* pairing.request(customer.id)
      expect((yield* pairing.accept(mitra.id, session.id)).status).toBe("pending_payment")
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(1)
      expect(yield* capacityInMirror(mitra.id)).toBe(1)

      // The pairing timeout (60 s) has nothing left to do: the payment timeout (300 s) replaced it.
      yield* TestClock.adjust(Duration.seconds(60))
      expect((yield* sessionInPostgres(session.id)).status).toBe("pending_payment")
      expect(yield* timers.armed).toBe(1)

      yield* TestClock.adjust(Duration.seconds(240))
      yield* awaitArmed(timers, 0)
      expect(yield* sessionInPostgres(session.id)).toMatchObject({ status: "cancelled", endReason: "payment_timeout", deadlineAt: null })
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(0)
      expect(yield* capacityInMirror(mitra.id)).toBe(0)
    }).pipe(Effect.provide(TimersLive())))

  it.scoped("expiry: an active session is expired at expires_at and the mitra's capacity freed in Postgres and the mirror", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      yield* seedMirror
      const pairing = yield* Pairing
      const timers = yield* SessionTimers
      const mitra = yield* onlineMitra()
      const customer = yield* customerWithToken
      const session = yield* pairing.request(customer.id)
      const active = yield* pairing.accept(mitra.id, session.id)
      expect(active.status).toBe("active")
      expect(yield* capacityInMirror(mitra.id)).toBe(1)

      yield* TestClock.adjust(Duration.minutes(30))
      yield* awaitArmed(timers, 0)
      const expired = yield* sessionInPostgres(session.id)
      expect(expired).toMatchObject({ status: "expired", endReason: "expired", deadlineAt: null })
      expect(expired.endedAt!.getTime()).toBe(active.expiresAt!.getTime())
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(0)
      expect(yield* capacityInMirror(mitra.id)).toBe(0)
    }).pipe(Effect.provide(TimersLive())))

  it.scoped("an extension moves the deadline: the old timer (armed on another instance) fires and changes nothing; the new one expires it", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      yield* seedMirror
      const timers = yield* SessionTimers
      const mitra = yield* onlineMitra()
      const customer = yield* customerWithToken
      const session = yield* (yield* Pairing).request(customer.id)
      // The accept lands on instance B, which arms its timer for the end of the session (30 min).
      const other = yield* otherInstance
      const otherTimers = yield* SessionTimers.pipe(Effect.provide(other))
      const active = yield* Effect.flatMap(Pairing, (p) => p.accept(mitra.id, session.id)).pipe(Effect.provide(other))
      expect(yield* otherTimers.armed).toBe(1)
      // The extension lands here: this instance re-arms for the new end (45 min); B still waits for 30.
      const extended = yield* (yield* SessionActions).extend(customer.id, session.id)
      expect(extended.expiresAt!.getTime() - active.expiresAt!.getTime()).toBe(15 * 60_000)
      expect(yield* timers.armed).toBe(1)

      yield* TestClock.adjust(Duration.minutes(30))
      yield* awaitArmed(otherTimers, 0)
      expect(yield* sessionInPostgres(session.id)).toMatchObject({
        status: "active",
        endReason: null,
        expiresAt: extended.expiresAt,
        deadlineAt: extended.expiresAt
      })
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(1)
      expect(yield* capacityInMirror(mitra.id)).toBe(1)

      yield* TestClock.adjust(Duration.minutes(15))
      yield* awaitArmed(timers, 0)
      expect(yield* sessionInPostgres(session.id)).toMatchObject({ status: "expired", endReason: "expired", endedAt: extended.expiresAt })
      expect(yield* capacityInMirror(mitra.id)).toBe(0)
    }).pipe(Effect.provide(TimersLive())))

  it.scoped("a timer and the due-deadline sweeps racing: the transition is applied, settled and announced once", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      yield* seedMirror
      const timers = yield* SessionTimers
      const sweep = yield* SessionDeadlineSweep
      const events = yield* (yield* SessionEvents).subscribe
      const [a, b] = [yield* onlineMitra(), yield* onlineMitra()]
      const customer = yield* customerWithToken
      const session = yield* (yield* Pairing).request(customer.id)
      const other = yield* otherInstance
      const otherSweep = yield* SessionDeadlineSweep.pipe(Effect.provide(SessionDeadlineSweep.DefaultWithoutDependencies), Effect.provide(other))
      yield* Queue.takeAll(events)

      // The timer wakes at the deadline and starts its I/O; the sweeps of both instances, and more
      // callers of the same step, go at once.
      yield* TestClock.adjust(Duration.seconds(60))
      const otherTimers = yield* SessionTimers.pipe(Effect.provide(other))
      const [ticks, direct] = yield* Effect.all([
        Effect.all([sweep.tick(), sweep.tick(), otherSweep.tick(), otherSweep.tick()], { concurrency: "unbounded" }),
        Effect.all([...racers(timers, session.id, 4), ...racers(otherTimers, session.id, 4)], { concurrency: "unbounded" })
      ], { concurrency: "unbounded" })
      yield* awaitArmed(timers, 0)

      expect(yield* sessionInPostgres(session.id)).toMatchObject({ status: "unmatched", endReason: "no_mitra_accepted" })
      // Unless the timer got there first, one of the others applied it.
      expect(ticks.reduce((n, tick) => n + tick.counts.deadlines_applied, 0) + direct.filter(Boolean).length).toBeLessThanOrEqual(1)
      const announced = publishedEvents(yield* Queue.takeAll(events))
      const ofSession = (event: SessionEvent) =>
        event._tag === "SessionUpdated" ? event.session.id === session.id : event._tag === "OfferWithdrawn" && event.sessionId === session.id
      expect(announced.filter(ofSession).map((event) => event._tag).sort()).toEqual(["OfferWithdrawn", "SessionUpdated"])
      expect(announced.flatMap((event) => (event._tag === "OfferWithdrawn" && event.sessionId === session.id ? event.mitraIds : [])).sort())
        .toEqual([a.id, b.id].sort())
      expect(yield* offersInPostgres(session.id)).toEqual(expect.arrayContaining([
        { mitraId: a.id, status: "expired", reason: "no_mitra_accepted" },
        { mitraId: b.id, status: "expired", reason: "no_mitra_accepted" }
      ]))

      // An active session past its end, applied by its timer and eight callers on two instances at once.
      const mitra = yield* onlineMitra()
      const late = yield* customerWithToken
      const pairing = yield* Pairing
      const live = yield* pairing.request(late.id)
      yield* pairing.accept(mitra.id, live.id)
      yield* TestClock.adjust(Duration.minutes(30))
      const applied = yield* Effect.all([...racers(timers, live.id, 4), ...racers(otherTimers, live.id, 4)], { concurrency: "unbounded" })
      yield* awaitArmed(timers, 0)
      // Each caller reads the session open and past its deadline; the conditional close lets one through,
      // unless the woken timer got there first.
      expect(applied.filter(Boolean).length).toBeLessThanOrEqual(1)
      expect(yield* sessionInPostgres(live.id)).toMatchObject({ status: "expired" })
      const closes = publishedEvents(yield* Queue.takeAll(events)).filter((event) => event._tag === "SessionUpdated" && event.session.id === live.id)
      expect(closes.map((event) => event._tag === "SessionUpdated" && event.session.status)).toEqual(["searching", "active", "expired"])
      expect(yield* liveSessionsInPostgres(mitra.id)).toBe(0)
      expect(yield* capacityInMirror(mitra.id)).toBe(0)
    }).pipe(Effect.provide(TimersLive())))

  it.scoped("the sweep applies the deadlines whose timers died with their instance: unmatched and expired, capacity freed", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      yield* seedMirror
      const timers = yield* SessionTimers
      const sweep = yield* SessionDeadlineSweep
      const [busy, free] = [yield* onlineMitra(), yield* onlineMitra()]
      const [first, second] = [yield* customerWithToken, yield* customerWithToken]

      // Instance B takes both requests and the accept, arms their timers, and dies.
      const { live, searching } = yield* Effect.scoped(Effect.gen(function*() {
        const other = yield* otherInstance
        const pairing = yield* Pairing.pipe(Effect.provide(other))
        const live = yield* pairing.request(first.id)
        yield* pairing.accept(busy.id, live.id)
        const searching = yield* pairing.request(second.id)
        expect(yield* Effect.flatMap(SessionTimers, (t) => t.armed).pipe(Effect.provide(other))).toBe(2)
        return { live, searching }
      }))
      expect(yield* timers.armed).toBe(0)
      expect(yield* capacityInMirror(busy.id)).toBe(1)

      // Past the pairing timeout only: the searching session is due, the active one is not.
      yield* TestClock.adjust(Duration.seconds(60))
      const tick1 = yield* sweep.tick()
      expect(tick1.counts).toMatchObject({ deadlines_due: 1, deadlines_applied: 1, orphans_rerouted: 0 })
      expect(yield* sessionInPostgres(searching.id)).toMatchObject({ status: "unmatched", endReason: "no_mitra_accepted" })
      expect(yield* offersInPostgres(searching.id)).toEqual([{ mitraId: free.id, status: "expired", reason: "no_mitra_accepted" }])
      expect((yield* sessionInPostgres(live.id)).status).toBe("active")

      yield* TestClock.adjust(Duration.minutes(29))
      const tick2 = yield* sweep.tick()
      expect(tick2.counts).toMatchObject({ deadlines_due: 1, deadlines_applied: 1 })
      expect(yield* sessionInPostgres(live.id)).toMatchObject({ status: "expired", endReason: "expired" })
      expect(yield* liveSessionsInPostgres(busy.id)).toBe(0)
      expect(yield* capacityInMirror(busy.id)).toBe(0)

      // Nothing is applied twice.
      expect((yield* sweep.tick()).counts).toMatchObject({ deadlines_due: 0, deadlines_applied: 0 })
    }).pipe(Effect.provide(TimersLive())))

  it.scoped("rerouteOrphans: live sessions of a mitra that went offline or was deactivated without the reroute are rerouted by the sweep", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      yield* seedMirror
      const sql = yield* SqlClient.SqlClient
      const pairing = yield* Pairing
      const timers = yield* SessionTimers
      const sweep = yield* SessionDeadlineSweep
      const [gone, removed] = [yield* onlineMitra(), yield* onlineMitra()]
      const [first, second] = [yield* customerWithToken, yield* customerWithToken]
      const s1 = yield* pairing.request(first.id)
      yield* pairing.accept(gone.id, s1.id)
      const s2 = yield* pairing.request(second.id)
      yield* pairing.accept(removed.id, s2.id)
      const heir = yield* onlineMitra()

      // Their changes committed (and the mirror caught up), but the reroutes never ran.
      yield* sql`UPDATE mitra_online_status SET is_online = false WHERE mitra_id = ${gone.id}`
      yield* sql`UPDATE mitras SET is_active = false WHERE id = ${removed.id}`
      yield* seedMirror
      expect((yield* sweep.tick()).counts).toMatchObject({ orphans_rerouted: 2 })

      for (const [session, mitra, reason] of [[s1, gone, "mitra_went_offline"], [s2, removed, "mitra_deactivated"]] as const) {
        expect(yield* sessionInPostgres(session.id)).toMatchObject({ status: "rerouted", endReason: reason })
        const [successor, ...more] = yield* successorOf(session.id)
        expect(more).toEqual([])
        expect(successor).toMatchObject({ status: "searching", customerId: session.customerId })
        expect(yield* offersInPostgres(successor!.id)).toEqual([{ mitraId: heir.id, status: "open", reason: null }])
        expect(yield* liveSessionsInPostgres(mitra.id)).toBe(0)
        expect(yield* capacityInMirror(mitra.id)).toBe(0)
      }
      // The successors wait for their pairing timeout (the old sessions' timers dropped).
      expect(yield* timers.armed).toBe(2)
      expect((yield* sweep.tick()).counts).toMatchObject({ orphans_rerouted: 0 })
    }).pipe(Effect.provide(TimersLive())))
})

describe("a real restart", () => {
  it.scopedLive("a pending deadline outlives the process that armed it: the next start-up restores the timer, which applies it (no sweep runs)", () =>
    Effect.gen(function*() {
      // The database outlives both lives of the service; each life has its own pool, Valkey prefix and timers.
      const database = yield* cloneTemplateDatabase
      const life = () => TestApp({ database: pgClientLayer(database.url) })

      const { mitraId, searchingId, activeId } = yield* Effect.scoped(Effect.gen(function*() {
        const app = yield* Layer.build(life())
        return yield* Effect.gen(function*() {
          const mitra = yield* onlineMitra()
          const [waiting, talking] = [yield* customerWithToken, yield* customerWithToken]
          const searching = (yield* post("/api/chat-sessions", { token: waiting.token })).body as { session: { id: string } }
          const active = (yield* post("/api/chat-sessions", { token: talking.token })).body as { session: { id: string } }
          const accepted = yield* post(`/api/mitra/sessions/${active.session.id}/accept`, { token: mitra.token })
          expect(accepted.status).toBe(200)
          expect(yield* Effect.flatMap(SessionTimers, (t) => t.armed)).toBe(2)
          return { mitraId: mitra.id, searchingId: searching.session.id, activeId: active.session.id }
        }).pipe(Effect.provide(app))
      }))

      // The process is gone. Its deadlines are a minute and half an hour away: bring them close.
      const sql = yield* SqlClient.SqlClient.pipe(Effect.provide(yield* Layer.build(pgClientLayer(database.url))))
      const soon = new Date(Date.now() + 1_000)
      yield* sql`UPDATE chat_sessions SET deadline_at = ${soon} WHERE id = ${searchingId}`
      yield* sql`UPDATE chat_sessions SET deadline_at = ${soon}, expires_at = ${soon} WHERE id = ${activeId}`

      const app = yield* Layer.build(life())
      yield* Effect.gen(function*() {
        const timers = yield* SessionTimers
        const closed = yield* eventually(
          Effect.all([sessionInPostgres(searchingId), sessionInPostgres(activeId), timers.armed]),
          ([searching, active, armed]) => searching.status !== "searching" && active.status !== "active" && armed === 0,
          "the restored timers did not apply the deadlines"
        )
        const [searching, active] = closed
        expect(searching).toMatchObject({ status: "unmatched", endReason: "no_mitra_accepted" })
        expect(active).toMatchObject({ status: "expired", endReason: "expired" })
        // Applied at the deadline, not before it.
        expect(searching.endedAt!.getTime()).toBeGreaterThanOrEqual(soon.getTime())
        expect(active.endedAt!.getTime()).toBeGreaterThanOrEqual(soon.getTime())
        expect(yield* offersInPostgres(searchingId)).toEqual([{ mitraId, status: "expired", reason: "no_mitra_accepted" }])
        expect(yield* liveSessionsInPostgres(mitraId)).toBe(0)
        // The new life's mirror was seeded with the live session at start-up, then freed by the timer.
        expect(yield* capacityInMirror(mitraId)).toBe(0)
      }).pipe(Effect.provide(app))
    }), 30_000)
})

/** The events of the batches among `deliveries` (a subscriber also sees the transport's state). */
const publishedEvents = (deliveries: Iterable<EventDelivery>): ReadonlyArray<SessionEvent> =>
  Array.from(deliveries).flatMap((delivery) => (delivery._tag === "Batch" ? delivery.batch.events : []))
