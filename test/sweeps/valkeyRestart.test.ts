/**
 * The sweeps against a real Valkey of their own (`startValkeyServer`) that dies and comes back,
 * on the TestClock (real I/O still works under it): the auto-offline sweep aborts when the server
 * is killed in the middle of a tick — the mitras it had not reached stay online, no Postgres
 * fallback — and the first tick after the restart (and the reseed the reconnect triggers) finishes
 * the job; meanwhile the heartbeat mirror skips and the reseed aborts, and both succeed again after.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"
import { Heartbeat } from "../../src/availability/Heartbeat.js"
import { MirrorCatchUpLive } from "../../src/sweeps/MirrorCatchUp.js"
import { type DepartureReason, SessionRerouting } from "../../src/sessions/SessionRerouting.js"
import { AutoOfflineSweepLive, SweepsLive } from "../../src/sweeps/SweepsLive.js"
import { mirrorState, seedMirror } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import { testValkeyConnection } from "../support/TestValkey.js"
import { startValkeyServer, type TestValkeyServer } from "../support/valkeyServer.js"
import {
  advanceAndAwait,
  advanceAndAwaitEach,
  itemsOf,
  postgresStateOf,
  realSleep,
  ReroutedMitras,
  seconds,
  startClockAtRealTime,
  SweepTestLive,
  ticksOf
} from "./kit.js"

const ownServer = Effect.acquireRelease(Effect.promise(() => startValkeyServer()), (server) => Effect.promise(() => server.stop()))

/** Waits in real time (up to 15 s) until the mirror answers and is seeded again. */
const awaitReseeded = Effect.gen(function*() {
  const store = yield* AvailabilityStore
  const deadline = Date.now() + 15_000
  while (!(yield* store.isSeeded.pipe(Effect.orElseSucceed(() => false)))) {
    if (Date.now() > deadline) return yield* Effect.dieMessage("the mirror was not reseeded after the restart")
    yield* realSleep(50)
  }
})

/** A rerouting hook that records its calls and kills the server on the first one: mid-sweep. */
const killingOnFirstReroute = (server: TestValkeyServer) =>
  Layer.effect(
    SessionRerouting,
    Effect.map(ReroutedMitras, (calls) =>
      SessionRerouting.make({
        rerouteLiveSessionsOf: (mitraId: string, reason: DepartureReason) =>
          Ref.modify(calls, (all) => [all.length === 0, [...all, { mitraId, reason }]]).pipe(
            Effect.flatMap((first) => (first ? Effect.promise(() => server.stop()) : Effect.void)),
            Effect.as(0)
          ),
        rerouteOrphans: () => Effect.succeed(0)
      }))
  ).pipe(Layer.provideMerge(Layer.effect(ReroutedMitras, Ref.make<ReadonlyArray<{ mitraId: string; reason: DepartureReason }>>([]))))

describe("sweeps against a Valkey that dies and comes back", () => {
  it.scoped("killed in the middle of an auto-offline tick: the tick aborts; after the restart the next tick offlines the rest, once each", () =>
    Effect.gen(function*() {
      const server = yield* ownServer
      yield* Effect.gen(function*() {
        const t0 = yield* startClockAtRealTime
        const stale = []
        for (let i = 0; i < 12; i++) stale.push((yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 120_000) })).id)
        const fresh = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 1_000) })
        yield* seedMirror
        yield* Layer.build(Layer.merge(AutoOfflineSweepLive, MirrorCatchUpLive))

        const aborted = yield* ticksOf("auto_offline", "aborted")
        yield* advanceAndAwait("auto_offline", seconds(30))
        expect(yield* ticksOf("auto_offline", "aborted")).toBe(aborted + 1)
        const duringOutage = yield* postgresStateOf(stale)
        const offlinedBefore = duringOutage.status.filter((s) => !s.isOnline).length
        // At least the one whose rerouting killed the server; not the ones after the failure.
        expect(offlinedBefore).toBeGreaterThanOrEqual(1)
        expect(offlinedBefore).toBeLessThan(stale.length)

        yield* Effect.promise(() => server.start())
        // The client reconnects on its own; the `ready` event reseeds the (empty) server.
        yield* awaitReseeded
        // The fresh mitra's app kept beating; the restarted server has its heartbeats again.
        yield* (yield* Heartbeat).record(fresh.id)
        const completed = yield* ticksOf("auto_offline", "completed")
        yield* advanceAndAwait("auto_offline", seconds(30))
        expect(yield* ticksOf("auto_offline", "completed")).toBe(completed + 1)
        const { status, events } = yield* postgresStateOf([...stale, fresh.id])
        expect(status.filter((s) => s.isOnline).map((s) => s.mitraId)).toEqual([fresh.id])
        expect(events.map((e) => e.mitraId)).toEqual([...stale].sort())
        expect((yield* mirrorState).online).toEqual([fresh.id])
      }).pipe(Effect.provide(SweepTestLive({
        valkey: testValkeyConnection({ url: server.url }),
        rerouting: killingOnFirstReroute(server)
      })))
    }), 60_000)

  it.scoped("while the server is down the heartbeat mirror skips and the reseed aborts; after the restart both succeed", () =>
    Effect.gen(function*() {
      const server = yield* ownServer
      yield* Effect.gen(function*() {
        const t0 = yield* startClockAtRealTime
        yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 10_000) })
        yield* seedMirror
        // Short cadences, so one clock move runs all three sweeps.
        yield* Layer.build(Layer.merge(SweepsLive, MirrorCatchUpLive))
        yield* Effect.promise(() => server.stop())
        const skipped = yield* ticksOf("heartbeat_mirror", "skipped")
        const aborted = yield* ticksOf("reseed", "aborted")
        // One clock move wakes all three loops; each is awaited on its own tick.
        yield* advanceAndAwaitEach(["auto_offline", "heartbeat_mirror", "reseed"], seconds(10))
        expect(yield* ticksOf("heartbeat_mirror", "skipped")).toBe(skipped + 1)
        expect(yield* ticksOf("reseed", "aborted")).toBe(aborted + 1)

        yield* Effect.promise(() => server.start())
        yield* awaitReseeded
        const mirrored = yield* ticksOf("heartbeat_mirror", "completed")
        const reseeded = yield* ticksOf("reseed", "completed")
        const online = yield* itemsOf("heartbeat_mirror", "online")
        yield* advanceAndAwaitEach(["auto_offline", "heartbeat_mirror", "reseed"], seconds(10))
        expect(yield* ticksOf("heartbeat_mirror", "completed")).toBe(mirrored + 1)
        expect(yield* ticksOf("reseed", "completed")).toBe(reseeded + 1)
        expect(yield* itemsOf("heartbeat_mirror", "online")).toBe(online + 1)
      }).pipe(Effect.provide(SweepTestLive({
        valkey: testValkeyConnection({ url: server.url }),
        env: {
          MITRA_AUTO_OFFLINE_SWEEP_SECONDS: "10",
          HEARTBEAT_MIRROR_INTERVAL_SECONDS: "10",
          VALKEY_ONLINE_MIRROR_SWEEP_SECONDS: "10"
        }
      })))
    }), 60_000)
})
