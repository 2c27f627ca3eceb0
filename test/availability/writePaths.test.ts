/**
 * Write paths: Postgres first (the row and its audit event in one transaction), then the mirror;
 * with the mirror down the request still succeeds and the failure is counted. Capacity follows
 * the sessions in Postgres (inserted here as fixtures) through its whole lifecycle.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Availability } from "../../src/availability/Availability.js"
import { valkeyWriteFailures } from "../../src/availability/AvailabilityMetrics.js"
import { counterValue } from "../support/metrics.js"
import { Capacity } from "../../src/availability/Capacity.js"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import { insertSession, mirrorState, seedMirror, setSessionStatus } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { TestServicesLive } from "../support/TestInfrastructure.js"

const statusRow = (mitraId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ isOnline: boolean; lastHeartbeatAt: Date | null; lastOnlineAt: Date | null }>`
      SELECT is_online, last_heartbeat_at, last_online_at FROM mitra_online_status WHERE mitra_id = ${mitraId}
    `).pipe(Effect.map((rows) => rows[0]), Effect.orDie)

const events = (mitraId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ event: string; reason: string; actor: string }>`
      SELECT event, reason, actor FROM mitra_status_events WHERE mitra_id = ${mitraId} ORDER BY id
    `).pipe(Effect.orDie)

describe("setOnline / setOffline write through", () => {
  it.live("online: Postgres row, heartbeat and audit event, then the mirror; twice is one event", () =>
    Effect.gen(function*() {
      const status = yield* MitraStatus
      const mitra = yield* createMitra({ maxConcurrentSessions: 2 })
      yield* insertSession({ mitraId: mitra.id, status: "active" })
      yield* seedMirror

      expect(yield* status.setOnline(mitra.id, "mitra:test")).toEqual({ isOnline: true })
      const row = yield* statusRow(mitra.id)
      expect(row).toMatchObject({ isOnline: true })
      const state = yield* mirrorState
      expect(state.online).toContain(mitra.id)
      expect(state.heartbeat[mitra.id]).toBe(row!.lastHeartbeatAt!.toISOString())
      expect(state.capacity[mitra.id]).toBe(1)
      expect(yield* (yield* Availability).findAvailableMitras()).toEqual([mitra.id])

      yield* status.setOnline(mitra.id, "mitra:test")
      expect(yield* events(mitra.id)).toEqual([{ event: "online", reason: "manual", actor: "mitra:test" }])
    }).pipe(Effect.provide(TestServicesLive())))

  it.live("offline: Postgres row and audit event, then out of the mirror with its heartbeat key", () =>
    Effect.gen(function*() {
      const status = yield* MitraStatus
      const mitra = yield* createMitra()
      yield* seedMirror
      yield* status.setOnline(mitra.id, "mitra:test")
      // True: this call took the mitra offline (its sessions are the caller's to reroute).
      expect(yield* status.setOffline(mitra.id, "mitra:test")).toBe(true)
      expect(yield* statusRow(mitra.id)).toMatchObject({ isOnline: false })
      const state = yield* mirrorState
      expect(state.online).not.toContain(mitra.id)
      expect(state.heartbeat[mitra.id]).toBeUndefined()
      // Already offline: nothing changes, nothing is audited twice.
      expect(yield* status.setOffline(mitra.id, "mitra:test")).toBe(false)
      expect((yield* events(mitra.id)).map((e) => e.event)).toEqual(["online", "offline"])
    }).pipe(Effect.provide(TestServicesLive())))

  it.live("with Valkey down both still succeed on Postgres; each skipped mirror write is counted", () =>
    Effect.gen(function*() {
      const status = yield* MitraStatus
      const capacity = yield* Capacity
      const mitra = yield* createMitra()
      const failures = (operation: string) => counterValue(valkeyWriteFailures, { operation })
      const before = [yield* failures("markOnline"), yield* failures("markOffline"), yield* failures("setCapacity")]

      expect(yield* status.setOnline(mitra.id, "mitra:test")).toEqual({ isOnline: true })
      expect(yield* statusRow(mitra.id)).toMatchObject({ isOnline: true })
      expect(yield* (yield* Availability).findAvailableMitras()).toEqual([mitra.id])
      // True: this call took the mitra offline (its sessions are the caller's to reroute).
      expect(yield* status.setOffline(mitra.id, "mitra:test")).toBe(true)
      expect(yield* statusRow(mitra.id)).toMatchObject({ isOnline: false })
      yield* capacity.recomputeCapacityForMitra(mitra.id)

      // setCapacity twice: going online recounts after its own write, and the explicit recount.
      expect([yield* failures("markOnline"), yield* failures("markOffline"), yield* failures("setCapacity")])
        .toEqual([before[0]! + 1, before[1]! + 1, before[2]! + 2])
      expect((yield* events(mitra.id)).map((e) => e.event)).toEqual(["online", "offline"])
    }).pipe(Effect.provide(TestServicesLive({ store: "failing" }))))

  it.live("a deactivated mitra cannot go online (403), and an unknown one is 404", () =>
    Effect.gen(function*() {
      const status = yield* MitraStatus
      const mitra = yield* createMitra({ isActive: false })
      expect(yield* Effect.flip(status.setOnline(mitra.id, "mitra:test"))).toMatchObject({ _tag: "Forbidden" })
      expect(yield* statusRow(mitra.id)).toBeUndefined()
      expect(yield* Effect.flip(status.setOnline("00000000-0000-4000-8000-000000000000", "x"))).toMatchObject({ _tag: "MitraNotFound" })
    }).pipe(Effect.provide(TestServicesLive())))
})

describe("capacity lifecycle", () => {
  it.live("searching does not count; pending_payment and active do; ending frees the mitra", () =>
    Effect.gen(function*() {
      const capacity = yield* Capacity
      const availability = yield* Availability
      const mitra = yield* createMitra({ isOnline: true })
      const other = yield* createMitra({ isOnline: true, maxConcurrentSessions: 2 })
      yield* seedMirror
      const step = (expected: number, available: boolean) =>
        Effect.gen(function*() {
          const counted = yield* capacity.recomputeCapacityForMitra(mitra.id)
          expect(counted).toMatchObject({ _tag: "Some", value: { liveSessions: expected } })
          expect((yield* mirrorState).capacity[mitra.id]).toBe(expected)
          expect((yield* availability.findAvailableMitras()).includes(mitra.id)).toBe(available)
        })

      const session = yield* insertSession({ mitraId: mitra.id, status: "searching" })
      yield* step(0, true)
      yield* setSessionStatus(session, "pending_payment")
      yield* step(1, false)
      yield* setSessionStatus(session, "active")
      yield* step(1, false)
      yield* setSessionStatus(session, "ended")
      yield* step(0, true)
      const rerouted = yield* insertSession({ mitraId: mitra.id, status: "active" })
      yield* step(1, false)
      yield* setSessionStatus(rerouted, "rerouted")
      yield* step(0, true)

      // A mitra with its own maximum of 2 stays available with one live session.
      yield* insertSession({ mitraId: other.id, status: "active" })
      yield* capacity.recomputeCapacityForMitra(other.id)
      expect(yield* availability.findAvailableMitras()).toContain(other.id)
      yield* insertSession({ mitraId: other.id, status: "pending_payment" })
      yield* capacity.recomputeCapacityForMitra(other.id)
      expect(yield* availability.findAvailableMitras()).not.toContain(other.id)
    }).pipe(Effect.provide(TestServicesLive())))

  it.live("a changed mitras.max_concurrent_sessions reaches the mirror with the recompute", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const capacity = yield* Capacity
      const availability = yield* Availability
      const mitra = yield* createMitra({ isOnline: true })
      yield* insertSession({ mitraId: mitra.id, status: "active" })
      yield* seedMirror
      expect(yield* availability.findAvailableMitras()).toEqual([])
      yield* sql`UPDATE mitras SET max_concurrent_sessions = 2 WHERE id = ${mitra.id}`
      yield* capacity.recomputeCapacityForMitra(mitra.id)
      expect(yield* availability.findAvailableMitras()).toEqual([mitra.id])
      expect(yield* capacity.recomputeCapacityForMitra("00000000-0000-4000-8000-000000000000")).toMatchObject({ _tag: "None" })
    }).pipe(Effect.provide(TestServicesLive())))
})
