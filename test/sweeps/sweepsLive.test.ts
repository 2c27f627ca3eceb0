/**
 * The sweeps as the service runs them (`BackgroundLive` in src/App.ts: start-up work, then
 * `SweepsLive`), on the TestClock: cadences come from the environment, the first ticks follow the
 * start-up seed by one cadence, and shutting down (closing the scope) stops all four loops.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope, TestClock } from "effect"
import { BackgroundLive, ServicesLive } from "../../src/App.js"
import { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"
import { createMitra } from "../support/fixtures.js"
import { testInfrastructure } from "../support/TestApp.js"
import { awaitTicks, postgresStateOf, realSleep, seconds, startClockAtRealTime, ticksOf } from "./kit.js"

const env = {
  MITRA_AUTO_OFFLINE_SWEEP_SECONDS: "7",
  HEARTBEAT_MIRROR_INTERVAL_SECONDS: "11",
  VALKEY_ONLINE_MIRROR_SWEEP_SECONDS: "13",
  AUTH_SESSION_PRUNE_SWEEP_SECONDS: "17"
}

const allTicks = Effect.all({
  autoOffline: ticksOf("auto_offline"),
  heartbeatMirror: ticksOf("heartbeat_mirror"),
  reseed: ticksOf("reseed"),
  authSessionPrune: ticksOf("auth_session_prune")
})

describe("SweepsLive in the service", () => {
  it.scoped("start after the start-up seed, tick at the configured cadences, and stop on shutdown", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const stale = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 120_000) })
      const app = yield* Scope.make()
      // The service's background work over the test's infrastructure (which outlives it, like Postgres and Valkey).
      yield* Layer.buildWithScope(BackgroundLive.pipe(Layer.provide(ServicesLive)), app)
      // Start-up seeded the mirror before any sweep ran.
      expect((yield* (yield* AvailabilityStore).readState).online).toContain(stale.id)
      const start = yield* allTicks
      yield* TestClock.adjust(seconds(6))
      yield* realSleep(50)
      expect(yield* allTicks).toEqual(start)

      yield* TestClock.adjust(seconds(1))
      yield* awaitTicks("auto_offline", start.autoOffline + 1)
      expect((yield* postgresStateOf([stale.id])).status[0]!.isOnline).toBe(false)
      yield* TestClock.adjust(seconds(4))
      yield* awaitTicks("heartbeat_mirror", start.heartbeatMirror + 1)
      yield* TestClock.adjust(seconds(2))
      yield* awaitTicks("reseed", start.reseed + 1)
      yield* TestClock.adjust(seconds(4))
      yield* awaitTicks("auth_session_prune", start.authSessionPrune + 1)
      // The auto-offline sweep ticked again at 14 s.
      yield* awaitTicks("auto_offline", start.autoOffline + 2)
      yield* realSleep(50)
      expect(yield* allTicks).toEqual({
        autoOffline: start.autoOffline + 2,
        heartbeatMirror: start.heartbeatMirror + 1,
        reseed: start.reseed + 1,
        authSessionPrune: start.authSessionPrune + 1
      })

      yield* Scope.close(app, Exit.void)
      const stopped = yield* allTicks
      yield* TestClock.adjust(seconds(600))
      yield* realSleep(100)
      expect(yield* allTicks).toEqual(stopped)
    }).pipe(Effect.provide(testInfrastructure({ env }))))
})
