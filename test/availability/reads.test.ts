/**
 * Every availability read answers the same from the mirror as from Postgres: the same state is
 * read through three stacks over one database — the Valkey store, the failing store (an outage)
 * and a Valkey store that was never seeded (a restarted server) — and the answers compared. Each
 * fallback is counted and marked on the read's span.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Availability } from "../../src/availability/Availability.js"
import { Beacon } from "../../src/availability/Beacon.js"
import { Dashboard } from "../../src/controlCenter/Dashboard.js"
import { availabilityFallbacks } from "../../src/availability/AvailabilityMetrics.js"
import { counterValue } from "../support/metrics.js"
import { AvailabilityStoreLive, FailingAvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { insertSession, seedMirror, setSetting, sourceOf, withRecordedSpans } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { testValkeyConnection } from "../support/TestValkey.js"
import { type MirrorLayer, TestInfrastructure, TestServices } from "../support/TestInfrastructure.js"

const secondsAgo = (s: number) => new Date(Date.now() - s * 1000)

/** The services over `mirror`, on the test's Postgres and configuration. */
const over = (mirror: MirrorLayer) => TestServices.pipe(Layer.provideMerge(mirror))

const viaValkey = over(AvailabilityStoreLive)
const duringOutage = over(FailingAvailabilityStoreLive)
const unseeded = over(AvailabilityStoreLive).pipe(Layer.provide(testValkeyConnection()))

/** A world with every case the filters distinguish. */
const scenario = Effect.gen(function*() {
  const m = {
    fresh: yield* createMitra({ isOnline: true, lastHeartbeatAt: secondsAgo(5) }),
    stale: yield* createMitra({ isOnline: true, lastHeartbeatAt: secondsAgo(600) }),
    noHeartbeat: yield* createMitra({ isOnline: true, lastHeartbeatAt: null }),
    busy: yield* createMitra({ isOnline: true }),
    roomy: yield* createMitra({ isOnline: true, maxConcurrentSessions: 3 }),
    full: yield* createMitra({ isOnline: true, maxConcurrentSessions: 2 }),
    offline: yield* createMitra(),
    inactive: yield* createMitra({ isActive: false }),
    // Deactivated with its online row left behind (data from before deactivation took mitras
    // offline, or a hand edit): online and deactivated at once, so only the active filter excludes it.
    onlineInactive: yield* createMitra({ isOnline: true, isActive: false, lastHeartbeatAt: secondsAgo(5) })
  }
  yield* insertSession({ mitraId: m.busy.id, status: "active" })
  yield* insertSession({ mitraId: m.roomy.id, status: "pending_payment" })
  yield* insertSession({ mitraId: m.full.id, status: "active" })
  yield* insertSession({ mitraId: m.full.id, status: "pending_payment" })
  yield* insertSession({ mitraId: m.fresh.id, status: "searching" })
  yield* insertSession({ mitraId: m.fresh.id, status: "ended" })
  yield* insertSession({ mitraId: null, status: "searching" })
  return m
})

const answers = (ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const availability = yield* Availability
    const reachable: Record<string, boolean> = {}
    for (const id of ids) reachable[id] = yield* availability.isMitraReachable(id)
    return {
      reachable,
      available: [...(yield* availability.findAvailableMitras())].sort(),
      count: yield* availability.countAvailableMitras(),
      online: yield* availability.countOnlineMitras(),
      beacon: (yield* (yield* Beacon).current()).available,
      dashboard: yield* Effect.map((yield* Dashboard).counts(), ({ valkey: _, ...counts }) => ({ ...counts }))
    }
  })

const operations = ["isMitraReachable", "findAvailableMitras", "countAvailableMitras", "countOnlineMitras"]
const fallbackCounts = Effect.all(Object.fromEntries(operations.map((operation) => [operation, counterValue(availabilityFallbacks, { operation })])))

describe("availability reads: the mirror and Postgres agree", () => {
  it.live("the same answers from Valkey, during an outage, and from an unseeded Valkey", () =>
    Effect.gen(function*() {
      const m = yield* scenario
      const ids = Object.values(m).map((mitra) => mitra.id)
      yield* seedMirror.pipe(Effect.provide(viaValkey))

      const before = yield* fallbackCounts
      const fromValkey = yield* answers(ids).pipe(Effect.provide(viaValkey))
      expect(yield* fallbackCounts).toEqual(before)

      expect(fromValkey.available).toEqual([m.fresh.id, m.roomy.id].sort())
      expect(fromValkey.count).toBe(2)
      expect(fromValkey.beacon).toBe(2)
      expect(fromValkey.online).toBe(7)
      expect(fromValkey.reachable).toMatchObject({
        [m.fresh.id]: true, [m.busy.id]: true, [m.roomy.id]: true, [m.full.id]: true,
        [m.stale.id]: false, [m.noHeartbeat.id]: false, [m.offline.id]: false, [m.inactive.id]: false,
        [m.onlineInactive.id]: false
      })
      expect(fromValkey.dashboard).toEqual({ online: 7, available: 2, liveSessions: 4, searching: 2 })

      expect(yield* answers(ids).pipe(Effect.provide(duringOutage))).toEqual(fromValkey)
      const during = yield* fallbackCounts
      for (const operation of operations) expect(during[operation]).toBeGreaterThan(before[operation]!)

      expect(yield* answers(ids).pipe(Effect.provide(unseeded))).toEqual(fromValkey)
      const after = yield* fallbackCounts
      for (const operation of operations) expect(after[operation]).toBeGreaterThan(during[operation]!)
    }).pipe(Effect.provide(TestInfrastructure()), Effect.orDie))

  it.live("a changed max_sessions_per_mitra changes both answers alike", () =>
    Effect.gen(function*() {
      const m = yield* scenario
      yield* setSetting("max_sessions_per_mitra", 2)
      yield* seedMirror.pipe(Effect.provide(viaValkey))
      const fromValkey = yield* answers([]).pipe(Effect.provide(viaValkey))
      expect(fromValkey.available).toEqual([m.fresh.id, m.busy.id, m.roomy.id].sort())
      expect(yield* answers([]).pipe(Effect.provide(duringOutage))).toEqual(fromValkey)
    }).pipe(Effect.provide(TestInfrastructure()), Effect.orDie))

  it.live("each read's span says where the answer came from", () =>
    Effect.gen(function*() {
      yield* createMitra({ isOnline: true })
      yield* seedMirror.pipe(Effect.provide(viaValkey))
      const read = Effect.flatMap(Availability, (a) => a.findAvailableMitras())
      const [, valkeySpans] = yield* withRecordedSpans(read.pipe(Effect.provide(viaValkey)))
      expect(sourceOf(valkeySpans, "Availability.findAvailableMitras")).toBe("valkey")
      const [, outageSpans] = yield* withRecordedSpans(read.pipe(Effect.provide(duringOutage)))
      expect(sourceOf(outageSpans, "Availability.findAvailableMitras")).toBe("postgres")
      expect(outageSpans.find((s) => s.name === "Availability.findAvailableMitras")?.attributes.get("availability.fallback")).toBe(true)
    }).pipe(Effect.provide(TestInfrastructure()), Effect.orDie))
})
