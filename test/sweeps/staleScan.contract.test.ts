/**
 * `AvailabilityStore.staleOnline`, the auto-offline sweep's read, on both stores (a real Valkey
 * under its own prefix, and in memory): the same answers, judged against the same cutoff as the
 * availability reads (fresh = heartbeat ≥ cutoff, so stale = not fresh), and a refusal while the
 * Valkey mirror is unseeded.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { AvailabilityStore, type MitraCapacity } from "../../src/availability/store/AvailabilityStore.js"
import { AvailabilityStoreLive, InMemoryAvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import type { MirrorInspector } from "../../src/availability/store/MirrorInspector.js"
import { TestValkeyLive } from "../support/TestValkey.js"
import { mirrorState } from "../support/availability.js"

const stores = [
  { name: "Valkey", layer: AvailabilityStoreLive.pipe(Layer.provide(TestValkeyLive), Layer.orDie) },
  { name: "in-memory", layer: InMemoryAvailabilityStoreLive }
] as const

const t0 = new Date("2026-05-25T10:00:00.000Z")
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)
const free: MitraCapacity = { liveSessions: 0, maxConcurrentSessions: null }
let lastVersion = 0
/** Status versions in commit order (`StatusVersion`). */
const v = () => ++lastVersion
const emptySeed = Effect.flatMap(AvailabilityStore, (store) => store.replaceAll(Effect.succeed({ mitras: [], defaults: { defaultMaxSessions: 1, defaultMaxVersion: 1 } })))
const byId = <A extends { readonly mitraId: string }>(items: ReadonlyArray<A>) => [...items].sort((a, b) => a.mitraId.localeCompare(b.mitraId))

describe.each(stores)("AvailabilityStore.staleOnline: $name", ({ layer }) => {
  const test = (name: string, body: Effect.Effect<void, unknown, AvailabilityStore | MirrorInspector>) =>
    it.live(name, () => Effect.zipRight(emptySeed, body).pipe(Effect.provide(layer)))

  test("lists online mitras whose heartbeat is older than the cutoff, with that heartbeat; fresh and offline ones are not listed", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [stale, fresh, atCutoff, offline] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    yield* store.markOnline(stale, at(0), free, v())
    yield* store.markOnline(fresh, at(50), free, v())
    yield* store.markOnline(atCutoff, at(30), free, v())
    yield* store.markOnline(offline, at(0), free, v())
    yield* store.markOffline(offline, v())
    expect(yield* store.staleOnline(at(30))).toEqual([{ mitraId: stale, heartbeatAt: at(0) }])
    // One millisecond later the one exactly at the cutoff is stale too (freshness is inclusive).
    expect(byId(yield* store.staleOnline(new Date(at(30).getTime() + 1)))).toEqual(
      byId([{ mitraId: stale, heartbeatAt: at(0) }, { mitraId: atCutoff, heartbeatAt: at(30) }])
    )
  }))

  test("an online mitra without a heartbeat key is stale, with heartbeatAt null", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const id = randomUUID()
    // What a seed does with an online row whose last_heartbeat_at is null.
    yield* store.replaceAll(Effect.succeed({
      mitras: [{ id, isActive: true, isOnline: true, lastHeartbeatAt: null, statusVersion: 0, ...free }],
      defaults: { defaultMaxSessions: 1, defaultMaxVersion: 2 }
    }))
    expect((yield* mirrorState).heartbeat[id]).toBeUndefined()
    expect(yield* store.staleOnline(at(0))).toEqual([{ mitraId: id, heartbeatAt: null }])
  }))

  test("with ids, judges only those, and only while they are online (the re-check)", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const [a, b, gone] = [randomUUID(), randomUUID(), randomUUID()]
    for (const id of [a, b, gone]) yield* store.markOnline(id, at(0), free, v())
    yield* store.markOffline(gone, v())
    expect(yield* store.staleOnline(at(10), [a])).toEqual([{ mitraId: a, heartbeatAt: at(0) }])
    expect(yield* store.staleOnline(at(10), [gone, randomUUID()])).toEqual([])
    yield* store.recordHeartbeat(a, at(20))
    expect(yield* store.staleOnline(at(10), [a, b])).toEqual([{ mitraId: b, heartbeatAt: at(0) }])
    expect(yield* store.staleOnline(at(10), [])).toEqual([])
  }))

  test("thousands of online mitras: one call answers with exactly the stale ones", Effect.gen(function*() {
    const store = yield* AvailabilityStore
    const mitras = Array.from({ length: 3_000 }, (_, i) => ({
      id: randomUUID(), isActive: true, isOnline: true, lastHeartbeatAt: at(i % 3 === 0 ? 0 : 100), statusVersion: 0, ...free
    }))
    yield* store.replaceAll(Effect.succeed({ mitras, defaults: { defaultMaxSessions: 1, defaultMaxVersion: 2 } }))
    const stale = yield* store.staleOnline(at(50))
    expect(stale.map((s) => s.mitraId).sort()).toEqual(mitras.filter((_, i) => i % 3 === 0).map((m) => m.id).sort())
  }))
})

describe("AvailabilityStore.staleOnline refusal", () => {
  it.live("the Valkey store refuses while the mirror is unseeded (a restarted, empty server), so the sweep aborts", () =>
    Effect.gen(function*() {
      const store = yield* AvailabilityStore
      const error = yield* Effect.flip(store.staleOnline(at(0)))
      expect(error._tag).toBe("ValkeyError")
      expect(error.message).toContain("NOTSEEDED")
    }).pipe(Effect.provide(AvailabilityStoreLive.pipe(Layer.provide(TestValkeyLive), Layer.orDie))))
})
