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
).pipe(Layer.provide(AutoOfflineSweep.Default))

export const HeartbeatMirrorSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { sweeps } = yield* AppConfig
    const sweep = yield* HeartbeatMirrorSweep
    yield* sweepLoop("heartbeat_mirror", sweeps.heartbeatMirror, sweep.tick())
  })
).pipe(Layer.provide(HeartbeatMirrorSweep.Default))

export const ReseedSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { sweeps } = yield* AppConfig
    const sweep = yield* ReseedSweep
    yield* sweepLoop("reseed", sweeps.reseed, sweep.tick())
  })
).pipe(Layer.provide(ReseedSweep.Default))

export const AuthSessionPruneSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { sweeps } = yield* AppConfig
    const sweep = yield* AuthSessionPruneSweep
    yield* sweepLoop("auth_session_prune", sweeps.authSessionPrune, sweep.tick())
  })
).pipe(Layer.provide(AuthSessionPruneSweep.Default))

/** The periodic loops (the mirror's catch-up on reconnect is `MirrorCatchUp.ts`, built with start-up). */
export const SweepsLive = Layer.mergeAll(AutoOfflineSweepLive, HeartbeatMirrorSweepLive, ReseedSweepLive, AuthSessionPruneSweepLive)
