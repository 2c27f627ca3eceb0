/**
 * The mirror's invariant, by property: for random sequences of online / offline / deactivate /
 * reactivate / heartbeat / session changes / capacity settings / time passing, the Valkey answer
 * of every read equals the Postgres answer after each step (once the heartbeat mirror has copied
 * Valkey's heartbeat times into Postgres, as its sweep does), and after a reseed the contract keys
 * equal what Postgres implies.
 *
 * Time is a manual clock the sequence advances (staleness at 60 s), so freshness is exercised at
 * both sides of the cutoff without waiting.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Clock, Duration, Effect, FastCheck as fc } from "effect"
import { AvailabilitySettings } from "../../src/settings/AvailabilitySettings.js"
import { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"
import type { MirrorState } from "../../src/availability/store/MirrorInspector.js"
import { Capacity } from "../../src/availability/Capacity.js"
import { Heartbeat } from "../../src/availability/Heartbeat.js"
import { MirrorSeeder } from "../../src/availability/mirror/MirrorSeeder.js"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import { MitrasRepo } from "../../src/mitras/MitrasRepo.js"
import { MitraAccounts } from "../../src/controlCenter/MitraAccounts.js"
import { insertSession, mirrorState, setSessionStatus, setSetting } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { TestServicesLive } from "../support/TestInfrastructure.js"

const poolSize = 4

type Action =
  | { readonly _tag: "online" | "offline" | "deactivate" | "reactivate" | "heartbeat" | "endSession"; readonly mitra: number }
  | { readonly _tag: "startSession"; readonly mitra: number; readonly status: "active" | "pending_payment" }
  | { readonly _tag: "setMax"; readonly mitra: number; readonly max: number | null }
  | { readonly _tag: "setDefaultMax"; readonly max: number }
  | { readonly _tag: "advance"; readonly seconds: number }

const mitra = fc.integer({ min: 0, max: poolSize - 1 })
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    _tag: fc.constantFrom("online" as const, "offline" as const, "deactivate" as const, "reactivate" as const, "heartbeat" as const, "endSession" as const),
    mitra
  }),
  fc.record({ _tag: fc.constant("online" as const), mitra }),
  fc.record({ _tag: fc.constant("heartbeat" as const), mitra }),
  fc.record({ _tag: fc.constant("startSession" as const), mitra, status: fc.constantFrom("active" as const, "pending_payment" as const) }),
  fc.record({ _tag: fc.constant("setMax" as const), mitra, max: fc.constantFrom(null, 1, 2, 3) }),
  fc.record({ _tag: fc.constant("setDefaultMax" as const), max: fc.constantFrom(1, 2) }),
  fc.record({ _tag: fc.constant("advance" as const), seconds: fc.integer({ min: 1, max: 90 }) })
)

/** A clock the test moves by hand (sleeping still takes real time). */
const manualClock = (startMillis: number) => {
  let now = startMillis
  const live = Clock.make()
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (duration: Duration.Duration) => live.sleep(duration)
  }
  return { clock, advance: (seconds: number) => Effect.sync(() => void (now += seconds * 1000)) }
}

const time = manualClock(Date.UTC(2026, 4, 25, 10, 0, 0))

const PropertyLive = TestServicesLive()

/** Both paths, same question (same instant, same settings). */
const compareReads = (ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const postgres = yield* MitrasRepo
    const settings = yield* (yield* AvailabilitySettings).fresh
    yield* (yield* Heartbeat).copyHeartbeatsToPostgres()
    const now = yield* Clock.currentTimeMillis
    const query = {
      freshSince: new Date(now - settings.heartbeatStaleSeconds * 1000),
      defaultMaxSessions: settings.maxSessionsPerMitra,
      defaultMaxVersion: settings.maxSessionsVersion
    }
    expect([...(yield* store.findAvailable(query))].sort()).toEqual((yield* postgres.findAvailable(query)).map((row) => row.id).sort())
    expect(yield* store.countAvailable(query)).toBe((yield* postgres.countAvailable(query)).n)
    expect(yield* store.countOnline).toBe((yield* postgres.countOnline).n)
    for (const id of ids) {
      expect(yield* store.isReachable(id, query.freshSince)).toBe((yield* postgres.isReachable({ mitraId: id, freshSince: query.freshSince })).reachable)
    }
  })

/** The contract keys Postgres implies for `ids`, and the mirror's, restricted to them. */
const mirrorMatchesPostgres = (ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string; isActive: boolean; isOnline: boolean; lastHeartbeatAt: Date | null; live: number }>`
      SELECT m.id, m.is_active, COALESCE(s.is_online, false) AS is_online, s.last_heartbeat_at,
             (SELECT count(*)::int FROM chat_sessions c WHERE c.mitra_id = m.id AND c.status IN ('active', 'pending_payment')) AS live
      FROM mitras m LEFT JOIN mitra_online_status s ON s.mitra_id = m.id WHERE m.id IN ${sql.in(ids)}
    `
    const expected: MirrorState = {
      online: rows.filter((r) => r.isOnline).map((r) => r.id).sort(),
      deactivated: rows.filter((r) => !r.isActive).map((r) => r.id).sort(),
      capacity: Object.fromEntries(rows.map((r) => [r.id, r.live])),
      heartbeat: Object.fromEntries(rows.filter((r) => r.isOnline && r.lastHeartbeatAt).map((r) => [r.id, r.lastHeartbeatAt!.toISOString()]))
    }
    const state = yield* mirrorState
    const keep = new Set(ids)
    const pick = <V>(record: Readonly<Record<string, V>>) => Object.fromEntries(Object.entries(record).filter(([id]) => keep.has(id)))
    expect({
      online: state.online.filter((id) => keep.has(id)),
      deactivated: state.deactivated.filter((id) => keep.has(id)),
      capacity: pick(state.capacity),
      heartbeat: pick(state.heartbeat)
    }).toEqual(expected)
  })

const apply = (ids: ReadonlyArray<string>, step: Action) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const status = yield* MitraStatus
    const capacity = yield* Capacity
    const id = "mitra" in step ? ids[step.mitra]! : ""
    switch (step._tag) {
      case "online":
        return yield* status.setOnline(id, "property").pipe(Effect.catchTag("Forbidden", () => Effect.void))
      case "offline":
        return yield* status.setOffline(id, "property")
      case "deactivate":
      case "reactivate":
        return yield* (yield* MitraAccounts).setActive(id, step._tag === "reactivate", "property")
      case "heartbeat":
        return yield* (yield* Heartbeat).record(id).pipe(Effect.catchTag("Forbidden", () => Effect.void))
      case "startSession":
        yield* insertSession({ mitraId: id, status: step.status })
        return yield* capacity.recomputeCapacityForMitra(id)
      case "endSession": {
        const [live] = yield* sql<{ id: string }>`
          SELECT id FROM chat_sessions WHERE mitra_id = ${id} AND status IN ('active', 'pending_payment') LIMIT 1
        `
        if (live !== undefined) yield* setSessionStatus(live.id, "ended")
        return yield* capacity.recomputeCapacityForMitra(id)
      }
      case "setMax":
        yield* sql`UPDATE mitras SET max_concurrent_sessions = ${step.max} WHERE id = ${id}`
        return yield* capacity.recomputeCapacityForMitra(id)
      case "setDefaultMax":
        return yield* setSetting("max_sessions_per_mitra", step.max)
      case "advance":
        return yield* time.advance(step.seconds)
    }
  })

describe("the mirror equals Postgres (property)", () => {
  layer(PropertyLive, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.effect.prop(
      "after every step of a random sequence, and after a reseed",
      [fc.array(action, { minLength: 1, maxLength: 14 })],
      ([actions]) =>
        Effect.gen(function*() {
          const pool = []
          for (let i = 0; i < poolSize; i++) pool.push(yield* createMitra({ isOnline: i % 2 === 0, lastHeartbeatAt: new Date(yield* Clock.currentTimeMillis) }))
          const ids = pool.map((m) => m.id)
          yield* (yield* MirrorSeeder).seedFromPostgres()
          yield* compareReads(ids)
          for (const step of actions) {
            yield* apply(ids, step)
            yield* compareReads(ids)
          }
          yield* (yield* MirrorSeeder).seedFromPostgres()
          yield* mirrorMatchesPostgres(ids)
          yield* compareReads(ids)
        }).pipe(Effect.withClock(time.clock), Effect.orDie),
      { timeout: 60_000, fastCheck: { numRuns: 30 } }
    )
  })
})
