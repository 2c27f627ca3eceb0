/**
 * The auto-offline sweep, driven through its loop on the TestClock, against real Postgres and
 * Valkey (each test its own database and key prefix): stale mitras go offline after one cadence
 * through the normal offline write (audit row, mirror, rerouting hook); fresh ones never do; with
 * the failing Valkey layer nobody goes offline and Postgres is unchanged; a heartbeat that
 * arrives after the scan, or that reached Postgres during a Valkey hiccup, saves its mitra; a
 * mitra already offline in Postgres is taken out of the mirror (nothing else); the
 * in-memory store is the liveness source in in-memory mode; two instances at once end as one.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Effect, Layer, Ref, TestClock } from "effect"
import { randomUUID } from "node:crypto"
import { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"
import { AvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { Heartbeat } from "../../src/availability/Heartbeat.js"
import { autoOfflineActor } from "../../src/sweeps/AutoOfflineSweep.js"
import { AutoOfflineSweepLive } from "../../src/sweeps/SweepsLive.js"
import { mirrorState, seedMirror } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { randomKeyPrefix, testValkeyConnection } from "../support/TestValkey.js"
import {
  advanceAndAwait,
  awaitWakeups,
  itemsOf,
  pendingWakeups,
  postgresStateOf,
  recordingSpans,
  ReroutedMitras,
  seconds,
  sqlStatements,
  startClockAtRealTime,
  SweepTestLive,
  ticksOf
} from "./kit.js"

/** Default config: cadence 30 s, heartbeat_stale_seconds 60. */
const cadence = seconds(30)

const startLoop = Layer.build(AutoOfflineSweepLive)

const mirrorOf = (ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const state = yield* mirrorState
    return {
      online: state.online.filter((id) => ids.includes(id)),
      heartbeats: ids.filter((id) => state.heartbeat[id] !== undefined)
    }
  })

const staleEventsOf = (ids: ReadonlyArray<string>) =>
  Effect.map(postgresStateOf(ids), ({ events }) => events.filter((e) => e.event === "offline"))

describe("auto-offline sweep", () => {
  it.scoped("after one cadence, online mitras with a stale or missing heartbeat go offline (audit, mirror, rerouting); fresh and offline ones are untouched", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const stale = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 90_000) })
      const missing = yield* createMitra({ isOnline: true, lastHeartbeatAt: null })
      const fresh = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 5_000) })
      const offline = yield* createMitra()
      const ids = [stale.id, missing.id, fresh.id, offline.id]
      yield* seedMirror
      const before = yield* ticksOf("auto_offline")
      yield* startLoop

      // The loop sleeps until one cadence after start, so at 29 s it cannot have ticked: the
      // same wake-up is still pending and no tick was counted (a tick before the sleep would be).
      expect(yield* awaitWakeups([t0 + 30_000])).toEqual([t0 + 30_000])
      yield* TestClock.adjust(seconds(29))
      expect(yield* pendingWakeups).toEqual([t0 + 30_000])
      expect(yield* ticksOf("auto_offline")).toBe(before)
      expect((yield* mirrorOf(ids)).online).toHaveLength(3)

      const offlined = yield* itemsOf("auto_offline", "offlined")
      yield* advanceAndAwait("auto_offline", seconds(1))
      const { status, events } = yield* postgresStateOf(ids)
      expect(Object.fromEntries(status.map((s) => [s.mitraId, s.isOnline]))).toEqual({
        [stale.id]: false,
        [missing.id]: false,
        [fresh.id]: true
      })
      expect(events.filter((e) => e.event === "offline")).toEqual(
        [stale.id, missing.id].sort().map((mitraId) => ({
          mitraId,
          event: "offline",
          reason: "heartbeat_stale",
          actor: autoOfflineActor,
          at: new Date(t0 + 30_000)
        }))
      )
      expect(yield* mirrorOf(ids)).toEqual({ online: [fresh.id], heartbeats: [fresh.id] })
      const rerouted = yield* Ref.get(yield* ReroutedMitras)
      expect([...rerouted].sort((a, b) => a.mitraId.localeCompare(b.mitraId))).toEqual(
        [stale.id, missing.id].sort().map((mitraId) => ({ mitraId, reason: "heartbeat_stale" }))
      )
      expect(yield* itemsOf("auto_offline", "offlined")).toBe(offlined + 2)
    }).pipe(Effect.provide(SweepTestLive())))

  it.scoped("a mitra that keeps heartbeating stays online tick after tick; one that stops goes offline within a stale period plus one cadence", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const beating = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0) })
      const stopping = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0) })
      yield* seedMirror
      yield* startLoop
      const heartbeat = yield* Heartbeat
      const onlineAfter = [] as Array<boolean>
      // Ticks at 30, 60, 90, 120 s; heartbeats every 20 s from `beating` only (stale after 60 s).
      for (let tick = 1; tick <= 4; tick++) {
        yield* TestClock.adjust(seconds(20))
        yield* heartbeat.record(beating.id)
        yield* advanceAndAwait("auto_offline", seconds(10))
        const { status } = yield* postgresStateOf([stopping.id])
        onlineAfter.push(status[0]!.isOnline)
      }
      // At 60 s its heartbeat (t0) is exactly at the cutoff: still fresh. At 90 s it is stale.
      expect(onlineAfter).toEqual([true, true, false, false])
      expect((yield* postgresStateOf([beating.id])).status[0]!.isOnline).toBe(true)
      expect(yield* staleEventsOf([beating.id, stopping.id])).toHaveLength(1)
    }).pipe(Effect.provide(SweepTestLive())))

  it.scoped("with the failing Valkey layer the tick aborts: nobody goes offline, Postgres is unchanged and never scanned", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const mitras = [
        yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 3_600_000) }),
        yield* createMitra({ isOnline: true, lastHeartbeatAt: null }),
        yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 5_000) })
      ]
      const ids = mitras.map((m) => m.id)
      const before = yield* postgresStateOf(ids)
      const aborted = yield* ticksOf("auto_offline", "aborted")
      yield* recordingSpans((spans) =>
        Effect.gen(function*() {
          yield* startLoop
          yield* advanceAndAwait("auto_offline", cadence)
          yield* advanceAndAwait("auto_offline", cadence)
          expect(sqlStatements(spans).filter((q) => /mitra_online_status|mitra_status_events/.test(q))).toEqual([])
        })
      )
      expect(yield* ticksOf("auto_offline", "aborted")).toBe(aborted + 2)
      expect(yield* postgresStateOf(ids)).toEqual(before)
      expect(yield* Ref.get(yield* ReroutedMitras)).toEqual([])
    }).pipe(Effect.provide(SweepTestLive({ store: "failing" }))))

  it.scoped("in in-memory mode the in-memory store is the liveness source", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const stale = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 90_000) })
      const fresh = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 90_000) })
      yield* seedMirror
      // A heartbeat only the in-memory store knows of (Postgres still says t0 - 90 s).
      yield* (yield* Heartbeat).record(fresh.id)
      yield* startLoop
      yield* advanceAndAwait("auto_offline", cadence)
      const { status } = yield* postgresStateOf([stale.id, fresh.id])
      expect(Object.fromEntries(status.map((s) => [s.mitraId, s.isOnline]))).toEqual({ [stale.id]: false, [fresh.id]: true })
      expect((yield* AvailabilityStore).kind).toBe("memory")
    }).pipe(Effect.provide(SweepTestLive({ store: "memory" }))))

  it.scoped("a heartbeat that reached Postgres while Valkey was unreachable keeps its mitra online (the write is conditional)", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const mitra = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 90_000) })
      yield* seedMirror
      // The heartbeat route's database path wrote a fresh time during a Valkey hiccup; the mirror kept the old one.
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE mitra_online_status SET last_heartbeat_at = ${new Date(t0 + 10_000)} WHERE mitra_id = ${mitra.id}`
      const unchanged = yield* itemsOf("auto_offline", "unchanged")
      yield* startLoop
      yield* advanceAndAwait("auto_offline", cadence)
      expect((yield* postgresStateOf([mitra.id])).status[0]!.isOnline).toBe(true)
      expect(yield* staleEventsOf([mitra.id])).toEqual([])
      expect(yield* itemsOf("auto_offline", "unchanged")).toBe(unchanged + 1)
      // The mirror is left alone too (the next reseed takes the fresher time).
      expect((yield* mirrorOf([mitra.id])).online).toEqual([mitra.id])
    }).pipe(Effect.provide(SweepTestLive())))

  it.scoped("offline in Postgres but online (stale) in the mirror: the mirror is told, with no audit row and no rerouting", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const mitra = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 90_000) })
      yield* seedMirror
      // The mitra went offline; that write's mirror step was lost (or landed before a late markOnline).
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE mitra_online_status SET is_online = false WHERE mitra_id = ${mitra.id}`
      const unchanged = yield* itemsOf("auto_offline", "unchanged")
      yield* startLoop
      yield* advanceAndAwait("auto_offline", cadence)
      expect(yield* itemsOf("auto_offline", "unchanged")).toBe(unchanged + 1)
      expect(yield* staleEventsOf([mitra.id])).toEqual([])
      expect(yield* Ref.get(yield* ReroutedMitras)).toEqual([])
      expect(yield* mirrorOf([mitra.id])).toEqual({ online: [], heartbeats: [] })
    }).pipe(Effect.provide(SweepTestLive())))

  it.scoped("a heartbeat that arrives after the scan, before the offline, saves its mitra (re-checked just before the write)", () => {
    const late = randomUUID()
    // The Valkey store, except that the sweep's full scan is followed at once by a heartbeat from `late`.
    const heartbeatAfterScan = Layer.effect(
      AvailabilityStore,
      Effect.map(AvailabilityStore, (store) => ({
        ...store,
        staleOnline: (staleBefore: Date, mitraIds?: ReadonlyArray<string>) =>
          mitraIds !== undefined
            ? store.staleOnline(staleBefore, mitraIds)
            : store.staleOnline(staleBefore).pipe(
              Effect.tap(() => Effect.flatMap(Clock.currentTimeMillis, (now) => store.recordHeartbeat(late, new Date(now))))
            )
      }))
    ).pipe(Layer.provideMerge(AvailabilityStoreLive))
    return Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      yield* createMitra({ id: late, isOnline: true, lastHeartbeatAt: new Date(t0 - 90_000) })
      const other = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 90_000) })
      yield* seedMirror
      const saved = yield* itemsOf("auto_offline", "fresh_on_recheck")
      yield* startLoop
      yield* advanceAndAwait("auto_offline", cadence)
      const { status } = yield* postgresStateOf([late, other.id])
      expect(Object.fromEntries(status.map((s) => [s.mitraId, s.isOnline]))).toEqual({ [late]: true, [other.id]: false })
      expect(yield* itemsOf("auto_offline", "fresh_on_recheck")).toBe(saved + 1)
    }).pipe(Effect.provide(SweepTestLive({ store: heartbeatAfterScan })))
  })
})

describe("auto-offline sweep on several instances", () => {
  /** Normalized end state of `ids` (timestamps come from the TestClock, the same in both worlds). */
  const endState = (ids: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const { status, events } = yield* postgresStateOf(ids)
      const state = yield* mirrorState
      return {
        // A row the sweep left alone keeps the fixture's real-time updated_at: compare the sweep's writes only.
        status: status.map((s) => ({
          ...s,
          lastHeartbeatAt: s.lastHeartbeatAt?.toISOString(),
          updatedAt: s.isOnline ? "untouched" : s.updatedAt.toISOString()
        })),
        events,
        online: state.online.filter((id) => ids.includes(id)),
        heartbeat: Object.fromEntries(Object.entries(state.heartbeat).filter(([id]) => ids.includes(id)))
      }
    })

  /** The same world (same ids, same times) in a database and key prefix of its own, swept by `instances` instances at once. */
  const sweptBy = (instances: number, t0: number, ids: { stale: Array<string>; missing: Array<string>; fresh: Array<string> }) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(t0)
      const database = yield* cloneTemplateDatabase
      const keyPrefix = randomKeyPrefix()
      const contexts = []
      for (let i = 0; i < instances; i++) {
        contexts.push(yield* Layer.build(SweepTestLive({ database: pgClientLayer(database.url, 3), valkey: testValkeyConnection({ keyPrefix }) })))
      }
      const first = contexts[0]!
      yield* Effect.gen(function*() {
        for (const id of ids.stale) yield* createMitra({ id, isOnline: true, lastHeartbeatAt: new Date(t0 - 120_000) })
        for (const id of ids.missing) yield* createMitra({ id, isOnline: true, lastHeartbeatAt: null })
        for (const id of ids.fresh) yield* createMitra({ id, isOnline: true, lastHeartbeatAt: new Date(t0 - 1_000) })
        yield* seedMirror
      }).pipe(Effect.provide(first))
      // Every instance's loop, woken by the same clock move: their ticks run at the same time.
      for (const context of contexts) yield* startLoop.pipe(Effect.provide(context))
      const offlined = yield* itemsOf("auto_offline", "offlined")
      yield* advanceAndAwait("auto_offline", cadence, instances)
      const all = [...ids.stale, ...ids.missing, ...ids.fresh]
      const rerouted = []
      for (const context of contexts) rerouted.push(...(yield* Ref.get(Context.get(context, ReroutedMitras))))
      return {
        state: yield* endState(all).pipe(Effect.provide(first)),
        offlinedByAll: (yield* itemsOf("auto_offline", "offlined")) - offlined,
        rerouted: rerouted.map((r) => r.mitraId).sort()
      }
    }).pipe(Effect.scoped)

  it.scoped("two instances sweeping the same Postgres and Valkey at once end in the same state as one: one audit row and one reroute per mitra", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const ids = {
        stale: Array.from({ length: 40 }, () => randomUUID()),
        missing: Array.from({ length: 5 }, () => randomUUID()),
        fresh: Array.from({ length: 10 }, () => randomUUID())
      }
      const one = yield* sweptBy(1, t0, ids)
      const two = yield* sweptBy(2, t0, ids)
      const gone = [...ids.stale, ...ids.missing].sort()
      expect(one.offlinedByAll).toBe(45)
      expect(one.state.events.map((e) => e.mitraId)).toEqual(gone)
      expect(one.state.online).toEqual([...ids.fresh].sort())
      expect(two.state).toEqual(one.state)
      expect(two.offlinedByAll).toBe(45)
      expect(two.rerouted).toEqual(gone)
    }))
})
