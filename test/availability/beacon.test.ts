/**
 * The beacon (`Beacon.current`, `GET /api/availability`): served from the shared
 * `availability:snapshot` until its TTL, shared by every instance on one Valkey, and computed once
 * — not once per caller — when 100 requests miss at the same moment.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, Layer, Ref } from "effect"
import { beaconComputations } from "../../src/availability/AvailabilityMetrics.js"
import { counterValue } from "../support/metrics.js"
import { AvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { BeaconCache } from "../../src/availability/beaconCache/BeaconCache.js"
import { Beacon } from "../../src/availability/Beacon.js"
import { mitraToken, seedMirror } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { get, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"
import { randomKeyPrefix } from "../support/TestValkey.js"
import { serviceInstance, TestInfrastructure, TestServicesLive } from "../support/TestInfrastructure.js"

const computations = counterValue(beaconComputations)

/**
 * One service instance (its own process state and Valkey connection) on the prefix `keyPrefix`,
 * alive until the test's scope closes (closing a test connection deletes its prefix's keys).
 */
const instance = (keyPrefix: string) => serviceInstance({ keyPrefix })

const beacon = Effect.flatMap(Beacon, (b) => b.current())

/** The Valkey mirror, its beacon cache counting `claimComputation` calls in `claims` and reads in `reads`. */
const countingCache = (claims: Ref.Ref<number>, reads?: Ref.Ref<number>) =>
  Layer.effect(
    BeaconCache,
    Effect.map(BeaconCache, (cache) => ({
      ...cache,
      read: reads === undefined ? cache.read : Effect.zipRight(Ref.update(reads, (n) => n + 1), cache.read),
      claimComputation: (ttl: Duration.Duration) => Effect.zipRight(Ref.update(claims, (n) => n + 1), cache.claimComputation(ttl))
    }))
  ).pipe(Layer.provideMerge(AvailabilityStoreLive))

describe("the beacon", () => {
  it.scopedLive("GET /api/availability serves the snapshot until its TTL, then a new count", () =>
    Effect.gen(function*() {
      const first = yield* get("/api/availability")
      expect(first.status).toBe(200)
      const body = first.body as { available: number; asOf: string }
      expect(body.available).toBe(0)
      expect(new Date(body.asOf).toISOString()).toBe(body.asOf)

      const mitra = yield* createMitra()
      expect((yield* post("/api/mitra/status/online", { token: yield* mitraToken(mitra.id) })).status).toBe(200)
      expect((yield* get("/api/availability")).body).toEqual(body)

      yield* Effect.sleep("1100 millis")
      const later = (yield* get("/api/availability")).body as { available: number; asOf: string }
      expect(later.available).toBe(1)
      expect(later.asOf > body.asOf).toBe(true)
    }).pipe(Effect.provide(TestApp({ env: { AVAILABILITY_SNAPSHOT_TTL_SECONDS: "1" } }))))

  it.live("answers from the instance's memory until asOf + TTL: many polls, one Valkey read", () =>
    Effect.gen(function*() {
      const [claims, reads] = [yield* Ref.make(0), yield* Ref.make(0)]
      yield* Effect.gen(function*() {
        yield* createMitra({ isOnline: true })
        yield* seedMirror
        const first = yield* beacon
        const readsAfterFirst = yield* Ref.get(reads)
        for (let i = 0; i < 20; i++) expect(yield* beacon).toBe(first)
        expect(yield* Ref.get(reads)).toBe(readsAfterFirst)
        // What the fast route serves without running an effect.
        expect((yield* Beacon).fresh()).toBe(first)

        yield* Effect.sleep("1100 millis")
        expect((yield* Beacon).fresh()).toBeUndefined()
        const later = yield* beacon
        expect(later.asOf > first.asOf).toBe(true)
        expect(yield* Ref.get(reads)).toBe(readsAfterFirst + 1)
      }).pipe(Effect.provide(TestServicesLive({ store: countingCache(claims, reads), env: { AVAILABILITY_SNAPSHOT_TTL_SECONDS: "1" } })))
    }))

  it.scopedLive("is shared by two instances on one Valkey: the second serves the first one's snapshot", () =>
    Effect.gen(function*() {
      const keyPrefix = randomKeyPrefix()
      const [a, b] = [yield* instance(keyPrefix), yield* instance(keyPrefix)]
      yield* createMitra({ isOnline: true })
      yield* seedMirror.pipe(Effect.provide(a))
      const before = yield* computations
      const fromA = yield* beacon.pipe(Effect.provide(a))
      const fromB = yield* beacon.pipe(Effect.provide(b))
      expect(fromA.available).toBe(1)
      expect(fromB).toEqual(fromA)
      expect(yield* computations).toBe(before + 1)
    }).pipe(Effect.provide(TestInfrastructure()), Effect.orDie))

  it.live("100 concurrent misses on one instance compute once, and ask the cluster once", () =>
    Effect.gen(function*() {
      const claims = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        yield* createMitra({ isOnline: true })
        yield* seedMirror
        const before = yield* computations
        const results = yield* Effect.all(Array.from({ length: 100 }, () => beacon), { concurrency: "unbounded" })
        expect(new Set(results.map((r) => r.asOf)).size).toBe(1)
        expect(results[0]!.available).toBe(1)
        expect(yield* computations).toBe(before + 1)
        // The cluster-wide claim alone would also keep the count at one (the others wait for the
        // winner's snapshot): the instance's single flight is what makes 100 misses one claim.
        expect(yield* Ref.get(claims)).toBe(1)
      }).pipe(Effect.provide(TestServicesLive({ store: countingCache(claims) })))
    }))

  it.scopedLive("100 concurrent misses across two instances compute once for the cluster", () =>
    Effect.gen(function*() {
      const keyPrefix = randomKeyPrefix()
      const [a, b] = [yield* instance(keyPrefix), yield* instance(keyPrefix)]
      yield* createMitra({ isOnline: true })
      yield* seedMirror.pipe(Effect.provide(a))
      const before = yield* computations
      const fifty = Effect.all(Array.from({ length: 50 }, () => beacon), { concurrency: "unbounded" })
      const [fromA, fromB] = yield* Effect.all([fifty.pipe(Effect.provide(a)), fifty.pipe(Effect.provide(b))], { concurrency: 2 })
      expect(new Set([...fromA, ...fromB].map((r) => r.asOf)).size).toBe(1)
      expect(fromA[0]!.available).toBe(1)
      expect(yield* computations).toBe(before + 1)
    }).pipe(Effect.provide(TestInfrastructure()), Effect.orDie))

  it.live("during an outage: Postgres counts once for 100 concurrent misses, then the local copy serves until the TTL", () =>
    Effect.gen(function*() {
      yield* createMitra({ isOnline: true })
      const before = yield* computations
      const results = yield* Effect.all(Array.from({ length: 100 }, () => beacon), { concurrency: "unbounded" })
      expect(results.every((r) => r.available === 1)).toBe(true)
      expect(yield* computations).toBe(before + 1)
      expect(yield* beacon).toEqual(results[0])
      expect(yield* computations).toBe(before + 1)
    }).pipe(Effect.provide(TestServicesLive({ store: "failing" })), Effect.orDie))
})
