/**
 * What only the Valkey store has to prove: the contract key names and types exactly, the
 * snapshot's TTL, refusing reads until seeded (an empty server after a restart), the shared
 * default-maximum version, script reloading after a flush, and the seed's atomic swap.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Ref } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { BeaconCache } from "../../src/availability/beaconCache/BeaconCache.js"
import { BeaconSnapshot } from "../../src/availability/beaconCache/BeaconSnapshot.js"
import { AvailabilityStore, type SeedMitra } from "../../src/availability/store/AvailabilityStore.js"
import { AvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import type { ValkeyError } from "../../src/valkey/ValkeyError.js"
import { mirrorState, rawValkey } from "../support/availability.js"
import { randomKeyPrefix, testValkeyConnection } from "../support/TestValkey.js"
import { startValkeyServer } from "../support/valkeyServer.js"

const storeOn = (options: { url?: string; keyPrefix?: string }) =>
  AvailabilityStoreLive.pipe(Layer.provide(testValkeyConnection(options)), Layer.orDie)

const free = { liveSessions: 0, maxConcurrentSessions: null }
const defaults = { defaultMaxSessions: 1, defaultMaxVersion: 1 }
const now = new Date("2026-05-25T10:00:00.000Z")
const query = (defaultMaxSessions = 1, defaultMaxVersion = 1) => ({
  freshSince: new Date(now.getTime() - 60_000),
  defaultMaxSessions,
  defaultMaxVersion
})

describe("the Valkey store", () => {
  it.scopedLive("writes the contract keys with exactly the seed's names and types (no prefix configured)", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startValkeyServer()), (s) => Effect.promise(() => s.stop()))
      const redis = yield* rawValkey(server.url)
      const [online, deactivated] = [randomUUID(), randomUUID()]
      const contract: Record<string, string> = {
        "mitras:online": "set",
        "mitras:deactivated": "set",
        [`mitra:capacity:${online}`]: "string",
        [`mitra:capacity:${deactivated}`]: "string",
        [`mitra:heartbeat:${online}`]: "string",
        "availability:snapshot": "string"
      }
      yield* Effect.gen(function*() {
        const store = yield* AvailabilityStore
        yield* store.replaceAll(Effect.succeed({ mitras: [], defaults }))
        yield* store.markOnline(online, now, { liveSessions: 0, maxConcurrentSessions: 2 }, 0)
        yield* store.setCapacity(deactivated, free)
        yield* store.setDeactivated(deactivated, true, 0)
        yield* (yield* BeaconCache).write(new BeaconSnapshot({ available: 1, asOf: now.toISOString() }), Duration.seconds(10))

        for (const [key, type] of Object.entries(contract)) expect(yield* Effect.promise(() => redis.type(key))).toBe(type)
        expect(yield* Effect.promise(() => redis.smembers("mitras:online"))).toEqual([online])
        expect(yield* Effect.promise(() => redis.smembers("mitras:deactivated"))).toEqual([deactivated])
        expect(yield* Effect.promise(() => redis.get(`mitra:heartbeat:${online}`))).toBe(now.toISOString())
        expect(yield* Effect.promise(() => redis.get(`mitra:capacity:${online}`))).toBe("0")
        const snapshot = yield* Effect.promise(() => redis.get("availability:snapshot"))
        expect(JSON.parse(snapshot!)).toEqual({ available: 1, asOf: now.toISOString() })
        // Everything else the store writes is auxiliary, under availability:.
        const others = (yield* Effect.promise(() => redis.keys("*"))).filter((k) => !(k in contract))
        expect(others.length).toBeGreaterThan(0)
        expect(others.every((k) => k.startsWith("availability:"))).toBe(true)
      }).pipe(Effect.provide(storeOn({ url: server.url, keyPrefix: "" })))
    }))

  it.scopedLive("puts every key under the configured prefix", () =>
    Effect.gen(function*() {
      const prefix = randomKeyPrefix()
      const redis = yield* rawValkey(inject("valkeyUrl"))
      const id = randomUUID()
      yield* Effect.gen(function*() {
        const store = yield* AvailabilityStore
        yield* store.replaceAll(Effect.succeed({ mitras: [], defaults }))
        yield* store.markOnline(id, now, free, 0)
        yield* (yield* BeaconCache).write(new BeaconSnapshot({ available: 1, asOf: now.toISOString() }), Duration.seconds(10))
        const keys = yield* Effect.promise(() => redis.keys(`${prefix}*`))
        expect(keys).toEqual(expect.arrayContaining([
          `${prefix}mitras:online`,
          `${prefix}mitra:heartbeat:${id}`,
          `${prefix}mitra:capacity:${id}`,
          `${prefix}availability:snapshot`
        ]))
        expect(yield* Effect.promise(() => redis.exists("mitras:online", `mitra:heartbeat:${id}`))).toBe(0)
        const ttl = yield* Effect.promise(() => redis.pttl(`${prefix}availability:snapshot`))
        expect(ttl).toBeGreaterThan(9_000)
        expect(ttl).toBeLessThanOrEqual(10_000)
      }).pipe(Effect.provide(storeOn({ keyPrefix: prefix })))
    }))

  it.live("refuses reads until seeded, and says so to the heartbeat (an empty server after a restart)", () =>
    Effect.gen(function*() {
      const store = yield* AvailabilityStore
      const id = randomUUID()
      yield* store.markOnline(id, now, free, 0)
      expect(yield* store.isSeeded).toBe(false)
      const reads: ReadonlyArray<Effect.Effect<unknown, ValkeyError>> = [
        store.findAvailable(query()),
        store.countAvailable(query()),
        store.countOnline,
        store.isReachable(id, now)
      ]
      for (const read of reads) {
        const exit = yield* Effect.exit(read)
        expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "ValkeyError" } } })
        expect(String(Exit.isFailure(exit) && exit.cause)).toContain("NOTSEEDED")
      }
      expect(yield* store.recordHeartbeat(id, now)).toBe("unseeded")
      yield* store.replaceAll(Effect.succeed({ mitras: [], defaults }))
      expect(yield* store.isSeeded).toBe(true)
      expect(yield* store.countOnline).toBe(0)
    }).pipe(Effect.provide(storeOn({}))))

  it.live("follows the newest max_sessions_per_mitra: an instance with an older cached value does not roll it back", () =>
    Effect.gen(function*() {
      const store = yield* AvailabilityStore
      yield* store.replaceAll(Effect.succeed({ mitras: [], defaults }))
      const id = randomUUID()
      yield* store.markOnline(id, now, { liveSessions: 1, maxConcurrentSessions: null }, 0)
      expect(yield* store.findAvailable(query(1, 1))).toEqual([])
      expect(yield* store.findAvailable(query(2, 5))).toEqual([id])
      // A lagging instance still believes in 1 (version 1): the mirror keeps the newer rule.
      expect(yield* store.findAvailable(query(1, 1))).toEqual([id])
      expect(yield* store.countAvailable(query(1, 4))).toBe(1)
      // And capacity changes after the switch use it too.
      yield* store.setCapacity(id, { liveSessions: 2, maxConcurrentSessions: null })
      expect(yield* store.countAvailable(query(2, 5))).toBe(0)
    }).pipe(Effect.provide(storeOn({}))))

  it.scopedLive("reloads its scripts when the server has forgotten them (SCRIPT FLUSH, restart)", () =>
    Effect.gen(function*() {
      const redis = yield* rawValkey(inject("valkeyUrl"))
      const store = yield* AvailabilityStore
      yield* store.replaceAll(Effect.succeed({ mitras: [], defaults }))
      const id = randomUUID()
      yield* store.markOnline(id, now, free, 0)
      yield* Effect.promise(() => redis.script("FLUSH"))
      expect(yield* store.recordHeartbeat(id, new Date(now.getTime() + 1000))).toBe("recorded")
      expect(yield* store.findAvailable(query())).toEqual([id])
    }).pipe(Effect.provide(storeOn({}))))

  it.scopedLive("heartbeats racing a reseed are kept: the indexes agree with the heartbeat keys afterwards", () =>
    Effect.gen(function*() {
      // Two instances on one prefix: one seeds, the other takes heartbeats on its own connection.
      const keyPrefix = randomKeyPrefix()
      const mirror = yield* Layer.build(storeOn({ keyPrefix }))
      const store = Context.get(mirror, AvailabilityStore)
      const other = Context.get(yield* Layer.build(storeOn({ keyPrefix })), AvailabilityStore)
      const mitras: Array<SeedMitra> = Array.from({ length: 3000 }, () => ({
        id: randomUUID(),
        isActive: true,
        isOnline: true,
        lastHeartbeatAt: now,
        statusVersion: 0,
        liveSessions: 0,
        maxConcurrentSessions: null
      }))
      yield* store.replaceAll(Effect.succeed({ mitras, defaults }))
      const pinged = mitras.slice(0, 5).map((m) => m.id)
      const clock = yield* Ref.make(now.getTime())
      const ping = Effect.gen(function*() {
        const at = new Date(yield* Ref.updateAndGet(clock, (t) => t + 1000))
        yield* Effect.forEach(pinged, (id) => other.recordHeartbeat(id, at), { concurrency: "unbounded" })
      })
      // Each round: heartbeats keep coming while a seed runs, and stop the moment it is done, so
      // nothing after the swap can paper over a heartbeat the swap lost.
      for (let round = 0; round < 6; round++) {
        // A stop flag checked between rounds of heartbeats, not an interruption: interrupting
        // would not cancel a command already sent, which could land after the keys are read.
        const stop = yield* Ref.make(false)
        const pinger = yield* Effect.fork(Effect.gen(function*() {
          do yield* ping
          while (!(yield* Ref.get(stop)))
        }))
        yield* store.replaceAll(Effect.succeed({ mitras, defaults }))
        yield* Ref.set(stop, true)
        // Every heartbeat the pinger sent has been answered once it is done.
        yield* Fiber.join(pinger)
        const { heartbeat } = yield* mirrorState.pipe(Effect.provide(mirror))
        const scores = new Map((yield* store.onlineHeartbeats).map((h) => [h.mitraId, h.at.getTime()]))
        for (const id of pinged) expect(scores.get(id)).toBe(new Date(heartbeat[id]!).getTime())
        const freshest = Math.min(...pinged.map((id) => scores.get(id)!))
        const available = new Set(yield* store.findAvailable({ ...query(), freshSince: new Date(freshest) }))
        for (const id of pinged) expect(available.has(id)).toBe(true)
      }
      expect(yield* Ref.get(clock)).toBeGreaterThan(now.getTime() + 6000)
    }), 30_000)

  it.live("a reseed swaps the new state in at once: concurrent readers never see an empty or partial mirror", () =>
    Effect.gen(function*() {
      const store = yield* AvailabilityStore
      const mitras: Array<SeedMitra> = Array.from({ length: 3000 }, () => ({
        id: randomUUID(),
        isActive: true,
        isOnline: true,
        lastHeartbeatAt: now,
        statusVersion: 0,
        liveSessions: 0,
        maxConcurrentSessions: null
      }))
      yield* store.replaceAll(Effect.succeed({ mitras, defaults }))
      const seen = yield* Ref.make(new Set<string>())
      const reader = yield* Effect.gen(function*() {
        const online = yield* store.countOnline
        const available = yield* store.countAvailable(query())
        const found = (yield* store.findAvailable(query())).length
        yield* Ref.update(seen, (s) => new Set(s).add(`${online}/${available}/${found}`))
      }).pipe(Effect.forever, Effect.fork)
      for (let i = 0; i < 8; i++) yield* store.replaceAll(Effect.succeed({ mitras, defaults }))
      yield* Fiber.interrupt(reader)
      expect([...(yield* Ref.get(seen))]).toEqual(["3000/3000/3000"])
    }).pipe(Effect.provide(storeOn({}))), 30_000)
})
