/**
 * The four sweeps as one layer: each a `Layer.scopedDiscard` forking its loop into the layer's
 * scope (`sweepLoop`), cadences from `AppConfig.sweeps` (the environment). Built after start-up
 * (see `src/App.ts`), so the first ticks follow the seed; interrupted when the app shuts down.
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { AuthSessionPruneSweep } from "./AuthSessionPruneSweep.js"
import { AutoOfflineSweep } from "./AutoOfflineSweep.js"
import { HeartbeatMirrorSweep } from "./HeartbeatMirrorSweep.js"
import { ReseedSweep } from "./ReseedSweep.js"
import { sweepLoop } from "./Sweep.js"

export const AutoOfflineSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { sweeps } = yield* AppConfig
    const sweep = yield* AutoOfflineSweep
    yield* sweepLoop("auto_offline", sweeps.autoOffline, sweep.tick())
  })
)

export const HeartbeatMirrorSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { sweeps } = yield* AppConfig
    const sweep = yield* HeartbeatMirrorSweep
    yield* sweepLoop("heartbeat_mirror", sweeps.heartbeatMirror, sweep.tick())
  })
)

export const ReseedSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { sweeps } = yield* AppConfig
    const sweep = yield* ReseedSweep
    yield* sweepLoop("reseed", sweeps.reseed, sweep.tick())
  })
)

export const AuthSessionPruneSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { sweeps } = yield* AppConfig
    const sweep = yield* AuthSessionPruneSweep
    yield* sweepLoop("auth_session_prune", sweeps.authSessionPrune, sweep.tick())
  })
)

/**
 * All four loops, over the availability services (`MitraStatus`, `Heartbeat`, `MirrorSeeder`, ...)
 * and Postgres.
 */
export const SweepsLive = Layer.mergeAll(AutoOfflineSweepLive, HeartbeatMirrorSweepLive, ReseedSweepLive, AuthSessionPruneSweepLive).pipe(
  Layer.provide(
    Layer.mergeAll(AutoOfflineSweep.Default, HeartbeatMirrorSweep.Default, ReseedSweep.Default, AuthSessionPruneSweep.Default)
  )
)
