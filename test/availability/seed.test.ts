/**
 * seedFromPostgres against real Postgres and Valkey: the mirror equals what Postgres implies,
 * drift is healed, a fresher Valkey heartbeat survives, start-up seeds before the listener, and a
 * restarted Valkey is reseeded on reconnect (meanwhile reads fall back to Postgres).
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { Availability } from "../../src/availability/Availability.js"
import { availabilityFallbacks } from "../../src/availability/AvailabilityMetrics.js"
import { counterValue } from "../support/metrics.js"
import { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"
import type { MirrorState } from "../../src/availability/store/MirrorInspector.js"
import { insertSession, mirrorState, rawValkey, seedMirror } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { TestApp } from "../support/TestApp.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { testValkeyConnection } from "../support/TestValkey.js"
import { startValkeyServer } from "../support/valkeyServer.js"
import { TestServicesLive } from "../support/TestInfrastructure.js"

/**
 * Instants before one "now" read once per test (whole seconds, as heartbeats are kept): a value
 * written and the value asserted are the same instant even when a second boundary passes between.
 */
const instantsBefore = (now: number) => (seconds: number) => new Date(now - seconds * 1000)
const wholeSecondNow = () => Math.floor(Date.now() / 1000) * 1000

/** The mirror Postgres implies, restricted to `ids` (other tests' rows are not ours to compare). */
const expectedMirror = (ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string; isActive: boolean; isOnline: boolean; lastHeartbeatAt: Date | null; live: number }>`
      SELECT m.id, m.is_active, COALESCE(s.is_online, false) AS is_online, s.last_heartbeat_at,
             (SELECT count(*)::int FROM chat_sessions c WHERE c.mitra_id = m.id AND c.status IN ('active', 'pending_payment')) AS live
      FROM mitras m LEFT JOIN mitra_online_status s ON s.mitra_id = m.id
      WHERE m.id IN ${sql.in(ids)}
    `.pipe(Effect.orDie)
    return {
      online: rows.filter((r) => r.isOnline).map((r) => r.id).sort(),
      deactivated: rows.filter((r) => !r.isActive).map((r) => r.id).sort(),
      capacity: Object.fromEntries(rows.map((r) => [r.id, r.live])),
      heartbeat: Object.fromEntries(rows.filter((r) => r.isOnline && r.lastHeartbeatAt).map((r) => [r.id, r.lastHeartbeatAt!.toISOString()]))
    } satisfies MirrorState
  })

const restrict = (state: MirrorState, ids: ReadonlyArray<string>): MirrorState => {
  const keep = new Set(ids)
  const pick = <V>(record: Readonly<Record<string, V>>) => Object.fromEntries(Object.entries(record).filter(([id]) => keep.has(id)))
  return {
    online: state.online.filter((id) => keep.has(id)),
    deactivated: state.deactivated.filter((id) => keep.has(id)),
    capacity: pick(state.capacity),
    heartbeat: pick(state.heartbeat)
  }
}

describe("seedFromPostgres", () => {
  it.live("builds the mirror Postgres implies: online, deactivated, capacity, heartbeats", () =>
    Effect.gen(function*() {
      const secondsAgo = instantsBefore(wholeSecondNow())
      const fresh = yield* createMitra({ isOnline: true, lastHeartbeatAt: secondsAgo(5) })
      const stale = yield* createMitra({ isOnline: true, lastHeartbeatAt: secondsAgo(600) })
      const busy = yield* createMitra({ isOnline: true, maxConcurrentSessions: 2 })
      const offline = yield* createMitra()
      const inactive = yield* createMitra({ isActive: false })
      yield* insertSession({ mitraId: busy.id, status: "active" })
      yield* insertSession({ mitraId: busy.id, status: "pending_payment" })
      yield* insertSession({ mitraId: busy.id, status: "ended" })
      const report = yield* seedMirror
      expect(report.online).toBeGreaterThanOrEqual(3)

      const ids = [fresh, stale, busy, offline, inactive].map((m) => m.id)
      expect(restrict(yield* mirrorState, ids)).toEqual(yield* expectedMirror(ids))
      expect((yield* mirrorState).capacity[busy.id]).toBe(2)
      const availability = yield* Availability
      expect(yield* availability.findAvailableMitras()).toEqual([fresh.id])
    }).pipe(Effect.provide(TestServicesLive())))

  it.live("heals drift: mitras the mirror wrongly holds online or deactivated are corrected", () =>
    Effect.gen(function*() {
      const store = yield* AvailabilityStore
      const ghost = yield* createMitra()
      const reactivated = yield* createMitra({ isOnline: true })
      const missed = yield* createMitra({ isOnline: true })
      yield* seedMirror
      // Drift, as when mirror writes failed after their Postgres commits:
      yield* store.markOnline(ghost.id, new Date(), { liveSessions: 0, maxConcurrentSessions: null }, 0)
      yield* store.setDeactivated(reactivated.id, true, 0)
      yield* store.markOffline(missed.id, 0)
      yield* seedMirror
      const ids = [ghost.id, reactivated.id, missed.id]
      const state = yield* mirrorState
      expect(restrict(state, ids)).toEqual(yield* expectedMirror(ids))
      expect(state.heartbeat[ghost.id]).toBeUndefined()
      const found = yield* (yield* Availability).findAvailableMitras()
      expect(found).not.toContain(ghost.id)
      expect(found).toEqual(expect.arrayContaining([reactivated.id, missed.id]))
    }).pipe(Effect.provide(TestServicesLive())))

  it.live("never replaces a heartbeat fresher than Postgres's; takes Postgres's when it is the fresher", () =>
    Effect.gen(function*() {
      const store = yield* AvailabilityStore
      const sql = yield* SqlClient.SqlClient
      const secondsAgo = instantsBefore(wholeSecondNow())
      const seeded = secondsAgo(50)
      const inValkey = secondsAgo(2)
      const inPostgres = secondsAgo(1)
      const valkeyFresher = yield* createMitra({ isOnline: true, lastHeartbeatAt: seeded })
      const postgresFresher = yield* createMitra({ isOnline: true, lastHeartbeatAt: seeded })
      yield* seedMirror
      yield* store.recordHeartbeat(valkeyFresher.id, inValkey)
      // A heartbeat written to Postgres while Valkey was unreachable:
      yield* sql`UPDATE mitra_online_status SET last_heartbeat_at = ${inPostgres} WHERE mitra_id = ${postgresFresher.id}`
      yield* seedMirror
      const { heartbeat } = yield* mirrorState
      expect(heartbeat[valkeyFresher.id]).toBe(inValkey.toISOString())
      expect(heartbeat[postgresFresher.id]).toBe(inPostgres.toISOString())
    }).pipe(Effect.provide(TestServicesLive())))

  it.scopedLive("runs at start-up: the mirror is seeded before the first request", () =>
    Effect.gen(function*() {
      const database = yield* cloneTemplateDatabase
      const mitraId = randomUUID()
      // The row exists before the app starts; the app's start-up seeds it into a fresh prefix.
      yield* createMitra({ id: mitraId, isOnline: true }).pipe(Effect.provide(pgClientLayer(database.url, 1)))
      yield* Effect.gen(function*() {
        const store = yield* AvailabilityStore
        expect(yield* store.isSeeded).toBe(true)
        expect((yield* mirrorState).online).toEqual([mitraId])
      }).pipe(Effect.provide(TestApp({ database: pgClientLayer(database.url, 2) })))
    }))
})

describe("reseed on reconnect", () => {
  it.scopedLive("a restarted (empty) Valkey is reseeded on its own, and reads stay right meanwhile (Postgres answers)", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startValkeyServer()), (s) => Effect.promise(() => s.stop()))
      yield* Effect.gen(function*() {
        const mitra = yield* createMitra({ isOnline: true })
        const deactivated = yield* createMitra({ isActive: false })
        yield* seedMirror
        const availability = yield* Availability
        const redis = yield* rawValkey(server.url)
        expect(yield* availability.findAvailableMitras()).toEqual([mitra.id])

        yield* Effect.promise(() => server.stop())
        yield* Effect.promise(() => server.start())
        // Empty at first: reads refuse (NOTSEEDED) and Postgres answers, the same answer.
        expect(yield* availability.findAvailableMitras()).toEqual([mitra.id])
        // Then the ready event (or the unseeded check) reseeds without anyone asking.
        yield* Effect.promise(() => redis.sismember("mitras:online", mitra.id)).pipe(
          Effect.repeat({ until: (n) => n === 1, schedule: Schedule.spaced("50 millis") }),
          Effect.timeout("10 seconds")
        )
        expect(yield* Effect.promise(() => redis.sismember("mitras:deactivated", deactivated.id))).toBe(1)
        const before = yield* counterValue(availabilityFallbacks, { operation: "findAvailableMitras" })
        expect(yield* availability.findAvailableMitras()).toEqual([mitra.id])
        expect(yield* counterValue(availabilityFallbacks, { operation: "findAvailableMitras" })).toBe(before)
      }).pipe(Effect.provide(TestApp({ valkey: testValkeyConnection({ url: server.url, keyPrefix: "" }) })))
    }), 30_000)
})
