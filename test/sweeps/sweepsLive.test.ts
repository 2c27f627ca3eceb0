/**
 * The sweeps as the service runs them (`BackgroundLive` in src/App.ts: start-up work, then
 * `SweepsLive`), on the TestClock: cadences come from the environment, the first ticks follow the
 * start-up seed by one cadence, and shutting down (closing the scope) stops all four loops.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope, TestClock } from "effect"
import { BackgroundLive } from "../../src/App.js"
import { createMitra } from "../support/fixtures.js"
import { TestInfrastructure } from "../support/TestInfrastructure.js"
import { mirrorState } from "../support/availability.js"
import {
  awaitTicks,
  awaitWakeups,
  pendingWakeups,
  postgresStateOf,
  seconds,
  startClockAtRealTime,
  stillRunning,
  ticksOf,
  trackForkedFibers
} from "./kit.js"

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
      const at = (s: number) => t0 + s * 1000
      const stale = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 120_000) })
      const app = yield* Scope.make()
      const start = yield* allTicks
      // The service's background work over the test's infrastructure (which outlives it, like
      // Postgres and Valkey), with every fiber it forks tracked, to see them end at shutdown.
      const { forked } = yield* trackForkedFibers(Layer.buildWithScope(BackgroundLive, app))
      // Start-up seeded the mirror before any sweep ran.
      expect((yield* mirrorState).online).toContain(stale.id)

      // "No tick yet" is read off the loops' sleeps: each loop is asleep until one cadence after
      // start and has not ticked (a tick before the first sleep would be counted by then). The
      // start-up's unseeded-mirror check also sleeps (every second), hence "holds", not "equals".
      yield* awaitWakeups([at(7), at(11), at(13), at(17)])
      expect(yield* allTicks).toEqual(start)
      // Short of the first cadence the loops sleep on; nothing ticked.
      yield* TestClock.adjust(seconds(6))
      expect(yield* pendingWakeups).toEqual(expect.arrayContaining([at(7), at(11), at(13), at(17)]))
      expect(yield* allTicks).toEqual(start)

      // Each loop ticks at its cadence, then sleeps one cadence from then: its next wake-up is
      // awaited before the clock moves on, so a tick that ran is never skipped by the next move.
      yield* TestClock.adjust(seconds(1))
      yield* awaitTicks("auto_offline", start.autoOffline + 1)
      expect((yield* postgresStateOf([stale.id])).status[0]!.isOnline).toBe(false)
      yield* awaitWakeups([at(14)])
      yield* TestClock.adjust(seconds(4))
      yield* awaitTicks("heartbeat_mirror", start.heartbeatMirror + 1)
      yield* awaitWakeups([at(22)])
      yield* TestClock.adjust(seconds(2))
      yield* awaitTicks("reseed", start.reseed + 1)
      yield* awaitWakeups([at(26)])
      yield* TestClock.adjust(seconds(4))
      // At 17 s: the prune loop's first tick, and the auto-offline loop's second (at 14 s).
      yield* awaitTicks("auth_session_prune", start.authSessionPrune + 1)
      yield* awaitTicks("auto_offline", start.autoOffline + 2)
      // No extra tick: each loop is asleep until a cadence after its last tick, later than now
      // (17 s), so none can tick again before the clock moves.
      yield* awaitWakeups([at(21), at(22), at(26), at(34)])
      expect(yield* allTicks).toEqual({
        autoOffline: start.autoOffline + 2,
        heartbeatMirror: start.heartbeatMirror + 1,
        reseed: start.reseed + 1,
        authSessionPrune: start.authSessionPrune + 1
      })

      // Shutdown: every fiber the background work left running has ended (the TestClock keeps
      // interrupted sleepers listed, so its wake-ups cannot show this; the fibers can).
      expect(forked.length).toBeGreaterThanOrEqual(3)
      yield* Scope.close(app, Exit.void)
      expect(stillRunning(forked)).toEqual([])
    }).pipe(Effect.provide(TestInfrastructure({ env }))))
})
