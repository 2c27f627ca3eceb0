/**
 * One contract, two stores: the Valkey store (real server, own key prefix) and the in-memory store
 * answer every operation the same way. Each test starts from an empty seeded mirror.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import {
  type AvailabilityQuery,
  AvailabilityStore,
  type MitraCapacity,
  type SeedMitra
} from "../../src/availability/store/AvailabilityStore.js"
import { AvailabilityStoreLive, InMemoryAvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { BeaconCache } from "../../src/availability/beaconCache/BeaconCache.js"
import { BeaconSnapshot } from "../../src/availability/beaconCache/BeaconSnapshot.js"
import type { MirrorInspector } from "../../src/availability/store/MirrorInspector.js"
import { eventually } from "../support/eventually.js"
import { TestValkeyLive } from "../support/TestValkey.js"
import { mirrorState } from "../support/availability.js"

const stores = [
  { name: "Valkey", layer: AvailabilityStoreLive.pipe(Layer.provide(TestValkeyLive), Layer.orDie) },
  { name: "in-memory", layer: InMemoryAvailabilityStoreLive }
] as const

const t0 = new Date("2026-05-25T10:00:00.000Z")
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)
const free: MitraCapacity = { liveSessions: 0, maxConcurrentSessions: null }
const query = (freshSince: Date, defaultMaxSessions = 1, defaultMaxVersion = 1): AvailabilityQuery => ({
  freshSince,
  defaultMaxSessions,
  defaultMaxVersion
})
/** Status versions in commit order (`StatusVersion`): each write newer than the last. */
let lastVersion = 0
const v = () => ++lastVersion
const sorted = (ids: ReadonlyArray<string>) => [...ids].sort()
const ids = (n: number) => Array.from({ length: n }, () => randomUUID())

/** An empty, seeded mirror (the Valkey store refuses reads until a seed). */
const emptySeed = Effect.flatMap(AvailabilityStore, (store) =>
  store.replaceAll(Effect.succeed({ mitras: [], defaults: { defaultMaxSessions: 1, defaultMaxVersion: 1 } })))

describe.each(stores)("AvailabilityStore contract: $name", ({ layer }) => {
  const test = (name: string, body: Effect.Effect<void, unknown, AvailabilityStore | MirrorInspector | BeaconCache>) =>
    it.live(name, () => Effect.zipRight(emptySeed, body).pipe(Effect.provide(layer)))

  test("an online mitra with a fresh heartbeat is available, reachable and counted", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a] = ids(1)
    yield* store.markOnline(a!, at(0), free, v())
    expect(yield* store.findAvailable(query(at(-60)))).toEqual([a])
    expect(yield* store.countAvailable(query(at(-60)))).toBe(1)
    expect(yield* store.countOnline).toBe(1)
    expect(yield* store.isReachable(a!, at(-60))).toBe(true)
    const state = yield* mirrorState
    expect(state.online).toEqual([a])
    expect(state.heartbeat[a!]).toBe(at(0).toISOString())
    expect(state.capacity[a!]).toBe(0)
  }))

  test("freshness is inclusive at the cutoff; an older heartbeat is stale", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a] = ids(1)
    yield* store.markOnline(a!, at(0), free, v())
    expect(yield* store.findAvailable(query(at(0)))).toEqual([a])
    expect(yield* store.isReachable(a!, at(0))).toBe(true)
    expect(yield* store.findAvailable(query(new Date(at(0).getTime() + 1)))).toEqual([])
    expect(yield* store.countAvailable(query(new Date(at(0).getTime() + 1)))).toBe(0)
    expect(yield* store.isReachable(a!, new Date(at(0).getTime() + 1))).toBe(false)
    // Still online: staleness is the sweep's business, not the mirror's.
    expect(yield* store.countOnline).toBe(1)
  }))

  test("capacity: at its maximum a mitra is unavailable (but reachable); its own maximum beats the default", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [busy, roomy, full] = ids(3)
    yield* store.markOnline(busy!, at(0), { liveSessions: 1, maxConcurrentSessions: null }, v())
    yield* store.markOnline(roomy!, at(0), { liveSessions: 1, maxConcurrentSessions: 2 }, v())
    yield* store.markOnline(full!, at(0), { liveSessions: 2, maxConcurrentSessions: 2 }, v())
    expect(sorted(yield* store.findAvailable(query(at(-60))))).toEqual([roomy])
    expect(yield* store.isReachable(busy!, at(-60))).toBe(true)
    yield* store.setCapacity(busy!, { liveSessions: 0, maxConcurrentSessions: null })
    yield* store.setCapacity(full!, { liveSessions: 1, maxConcurrentSessions: 2 })
    expect(sorted(yield* store.findAvailable(query(at(-60))))).toEqual(sorted([busy!, roomy!, full!]))
    yield* store.setCapacity(roomy!, { liveSessions: 1, maxConcurrentSessions: null })
    expect(sorted(yield* store.findAvailable(query(at(-60))))).toEqual(sorted([busy!, full!]))
    expect((yield* mirrorState).capacity).toMatchObject({ [busy!]: 0, [roomy!]: 1, [full!]: 1 })
  }))

  test("a newer default maximum applies to mitras without their own", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a, b] = ids(2)
    yield* store.markOnline(a!, at(0), { liveSessions: 1, maxConcurrentSessions: null }, v())
    yield* store.markOnline(b!, at(0), { liveSessions: 1, maxConcurrentSessions: 1 }, v())
    expect(yield* store.findAvailable(query(at(-60), 1, 1))).toEqual([])
    expect(yield* store.findAvailable(query(at(-60), 2, 2))).toEqual([a])
    expect(yield* store.countAvailable(query(at(-60), 2, 2))).toBe(1)
    expect(yield* store.findAvailable(query(at(-60), 1, 3))).toEqual([])
  }))

  test("deactivation takes a mitra out (and offline); its heartbeat is refused; reactivation leaves it offline", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a] = ids(1)
    yield* store.markOnline(a!, at(0), free, v())
    yield* store.setDeactivated(a!, true, v())
    expect(yield* store.findAvailable(query(at(-60)))).toEqual([])
    expect(yield* store.isReachable(a!, at(-60))).toBe(false)
    expect(yield* store.recordHeartbeat(a!, at(5))).toBe("deactivated")
    const state = yield* mirrorState
    expect(state.deactivated).toEqual([a])
    expect(state.online).toEqual([])
    expect(state.heartbeat[a!]).toBeUndefined()
    yield* store.setDeactivated(a!, false, v())
    expect((yield* mirrorState).deactivated).toEqual([])
    expect(yield* store.recordHeartbeat(a!, at(6))).toBe("not_online")
    expect(yield* store.findAvailable(query(at(-60)))).toEqual([])
    yield* store.markOnline(a!, at(7), free, v())
    expect(yield* store.findAvailable(query(at(-60)))).toEqual([a])
  }))

  test("a late markOnline after a deactivation is a no-op: the mitra stays out of online, unheard", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a] = ids(1)
    yield* store.markOnline(a!, at(0), free, v())
    yield* store.setDeactivated(a!, true, v())
    // The setOnline that committed before the deactivation, its mirror write landing after.
    yield* store.markOnline(a!, at(1), free, v())
    const state = yield* mirrorState
    expect(state.deactivated).toEqual([a])
    expect(state.online).toEqual([])
    expect(state.heartbeat[a!]).toBeUndefined()
    expect(yield* store.findAvailable(query(at(-60)))).toEqual([])
    expect(yield* store.countOnline).toBe(0)
    expect(yield* store.isReachable(a!, at(-60))).toBe(false)
    expect(yield* store.recordHeartbeat(a!, at(2))).toBe("deactivated")
  }))

  test("offline: out of the set, heartbeat key gone; a late heartbeat does not bring it back", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a] = ids(1)
    yield* store.markOnline(a!, at(0), free, v())
    yield* store.markOffline(a!, v())
    expect(yield* store.recordHeartbeat(a!, at(5))).toBe("not_online")
    const state = yield* mirrorState
    expect(state.online).toEqual([])
    expect(state.heartbeat).toEqual({})
    expect(yield* store.countOnline).toBe(0)
    expect(yield* store.findAvailable(query(at(-60)))).toEqual([])
  }))

  test("a heartbeat makes a stale mitra fresh, never moves backwards, and survives a capacity change", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a] = ids(1)
    yield* store.markOnline(a!, at(0), { liveSessions: 1, maxConcurrentSessions: null }, v())
    expect(yield* store.recordHeartbeat(a!, at(100))).toBe("recorded")
    expect(yield* store.recordHeartbeat(a!, at(50))).toBe("recorded")
    expect((yield* mirrorState).heartbeat[a!]).toBe(at(100).toISOString())
    // Busy until now: freed, it is available with its latest heartbeat.
    expect(yield* store.findAvailable(query(at(90)))).toEqual([])
    yield* store.setCapacity(a!, free)
    expect(yield* store.findAvailable(query(at(90)))).toEqual([a])
    expect(yield* store.findAvailable(query(at(101)))).toEqual([])
    expect(yield* store.onlineHeartbeats).toEqual([{ mitraId: a, at: at(100) }])
  }))

  test("going online again never moves a fresher heartbeat backwards", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a] = ids(1)
    yield* store.markOnline(a!, at(0), free, v())
    yield* store.recordHeartbeat(a!, at(30))
    yield* store.markOnline(a!, at(10), free, v())
    expect((yield* mirrorState).heartbeat[a!]).toBe(at(30).toISOString())
    expect(yield* store.findAvailable(query(at(20)))).toEqual([a])
  }))

  // Presence and "one claim per TTL" are judged with a TTL no run comes near, so they never race
  // the clock; expiry is "eventually", so it is awaited (a short TTL, then asking until it is gone).
  const snapshot = new BeaconSnapshot({ available: 7, asOf: at(0).toISOString() })

  test("the beacon snapshot reads back as written while its TTL runs; one computation claim wins per TTL", Effect.gen(function*() {
    const cache = yield* BeaconCache
    expect(yield* cache.read).toEqual(Option.none())
    yield* cache.write(snapshot, Duration.seconds(60))
    expect(yield* cache.read).toEqual(Option.some(snapshot))
    expect(yield* cache.claimComputation(Duration.seconds(60))).toBe(true)
    expect(yield* cache.claimComputation(Duration.seconds(60))).toBe(false)
  }))

  test("the beacon snapshot expires after its TTL", Effect.gen(function*() {
    const cache = yield* BeaconCache
    yield* cache.write(snapshot, Duration.millis(50))
    yield* eventually(cache.read, Option.isNone, "the snapshot written with a 50 ms TTL never expired")
  }))

  test("a computation claim lapses after its TTL: the computation can be claimed again", Effect.gen(function*() {
    const cache = yield* BeaconCache
    expect(yield* cache.claimComputation(Duration.millis(50))).toBe(true)
    yield* eventually(cache.claimComputation(Duration.millis(50)), (won) => won, "a claim taken with a 50 ms TTL never lapsed")
  }))

  test("replaceAll installs the derived state exactly, keeping fresher heartbeats", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [stays, leaves, fresherHere, fresherThere, inactive, busy, noHeartbeat] = ids(7)
    for (const id of [stays, leaves, fresherHere, fresherThere]) yield* store.markOnline(id!, at(0), free, v())
    yield* store.recordHeartbeat(fresherHere!, at(50))
    yield* store.setDeactivated(busy!, true, v())
    const mitra = (id: string, fields: Partial<SeedMitra>): SeedMitra => ({
      id,
      isActive: true,
      isOnline: true,
      lastHeartbeatAt: at(10),
      statusVersion: 0,
      liveSessions: 0,
      maxConcurrentSessions: null,
      ...fields
    })
    yield* store.replaceAll(Effect.succeed({ defaults: { defaultMaxSessions: 1, defaultMaxVersion: 2 }, mitras: [
      mitra(stays!, {}),
      mitra(leaves!, { isOnline: false, lastHeartbeatAt: at(0) }),
      mitra(fresherHere!, {}),
      mitra(fresherThere!, { lastHeartbeatAt: at(40) }),
      mitra(inactive!, { isActive: false, isOnline: false, lastHeartbeatAt: null }),
      mitra(busy!, { liveSessions: 2, maxConcurrentSessions: 3 }),
      mitra(noHeartbeat!, { lastHeartbeatAt: null })
    ] }))

    const state = yield* mirrorState
    expect(state.online).toEqual(sorted([stays!, fresherHere!, fresherThere!, busy!, noHeartbeat!]))
    expect(state.deactivated).toEqual([inactive])
    expect(state.heartbeat).toEqual({
      [stays!]: at(10).toISOString(),
      [fresherHere!]: at(50).toISOString(),
      [fresherThere!]: at(40).toISOString(),
      [busy!]: at(10).toISOString()
    })
    expect(state.capacity).toMatchObject({ [busy!]: 2, [leaves!]: 0, [inactive!]: 0 })
    expect(sorted(yield* store.findAvailable(query(at(5), 1, 2))))
      .toEqual(sorted([stays!, fresherHere!, fresherThere!, busy!]))
    expect(sorted(yield* store.findAvailable(query(at(45), 1, 2)))).toEqual([fresherHere])
    expect(yield* store.recordHeartbeat(leaves!, at(60))).toBe("not_online")
  }))

  test("a seed never reverts a write made while it ran; later seeds install what they read", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [wentOnline, wentOffline, gotBusy, gotFree, deactivated] = ids(5)
    yield* store.markOnline(wentOffline!, at(0), free, v())
    yield* store.markOnline(gotBusy!, at(0), free, v())
    yield* store.markOnline(gotFree!, at(0), { liveSessions: 1, maxConcurrentSessions: null }, v())
    yield* store.markOnline(deactivated!, at(0), free, v())
    const row = (id: string, fields: Partial<SeedMitra>): SeedMitra => ({
      id,
      isActive: true,
      isOnline: true,
      lastHeartbeatAt: at(0),
      statusVersion: 0,
      liveSessions: 0,
      maxConcurrentSessions: null,
      ...fields
    })
    const defaults = { defaultMaxSessions: 1, defaultMaxVersion: 1 }
    // What Postgres said when the seed read it, and what changed right after, before the swap.
    const readTruth = Effect.gen(function*() {
      const truth = {
        defaults,
        mitras: [
          row(wentOnline!, { isOnline: false, lastHeartbeatAt: null }),
          row(wentOffline!, {}),
          row(gotBusy!, {}),
          row(gotFree!, { liveSessions: 1 }),
          row(deactivated!, {})
        ]
      }
      yield* store.markOnline(wentOnline!, at(5), free, v())
      yield* store.markOffline(wentOffline!, v())
      yield* store.setCapacity(gotBusy!, { liveSessions: 1, maxConcurrentSessions: null })
      yield* store.setCapacity(gotFree!, free)
      yield* store.setDeactivated(deactivated!, true, v())
      return truth
    })
    yield* store.replaceAll(readTruth)
    const state = yield* mirrorState
    expect(state.online).toEqual(sorted([wentOnline!, gotBusy!, gotFree!]))
    expect(state.deactivated).toEqual([deactivated])
    expect(state.heartbeat[wentOffline!]).toBeUndefined()
    expect(state.heartbeat[wentOnline!]).toBe(at(5).toISOString())
    expect(state.capacity).toMatchObject({ [gotBusy!]: 1, [gotFree!]: 0 })
    expect(sorted(yield* store.findAvailable(query(at(-60))))).toEqual(sorted([wentOnline!, gotFree!]))

    // Once no seed runs, writes are no longer tracked: the next seed installs what it reads.
    yield* store.replaceAll(Effect.succeed({ defaults, mitras: [row(wentOnline!, { isOnline: false })] }))
    expect((yield* mirrorState).online).toEqual([])
  }))

  test("many mitras: the batched paths agree with a plain count", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const all = ids(2500)
    yield* store.replaceAll(Effect.succeed({ defaults: { defaultMaxSessions: 1, defaultMaxVersion: 1 }, mitras: all.map((id, i) => ({
      id,
      isActive: i % 10 !== 0,
      isOnline: i % 3 !== 0,
      lastHeartbeatAt: i % 7 === 0 ? at(-120) : at(0),
      statusVersion: 0,
      liveSessions: i % 5 === 0 ? 1 : 0,
      maxConcurrentSessions: i % 25 === 0 ? 2 : null
    })) }))
    const expected = all.filter((_, i) =>
      i % 10 !== 0 && i % 3 !== 0 && i % 7 !== 0 && (i % 5 !== 0 || i % 25 === 0)
    )
    expect(sorted(yield* store.findAvailable(query(at(-60))))).toEqual(sorted(expected))
    expect(yield* store.countAvailable(query(at(-60)))).toBe(expected.length)
    expect(yield* store.countOnline).toBe(all.filter((_, i) => i % 3 !== 0).length)
  }))
})
