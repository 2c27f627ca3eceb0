/**
 * The five sweeps as one layer: each a `Layer.scopedDiscard` forking its loop into the layer's
 * scope (`sweepLoop`), cadences from `AppConfig.sweeps` (the environment). Built after start-up
 * (see `src/App.ts`), so the first ticks follow the seed; interrupted when the app shuts down.
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { AuthSessionPruneSweep } from "./AuthSessionPruneSweep.js"
import { AutoOfflineSweep } from "./AutoOfflineSweep.js"
import { HeartbeatMirrorSweep } from "./HeartbeatMirrorSweep.js"
import { ReseedSweep } from "./ReseedSweep.js"
import { SessionDeadlineSweep } from "./SessionDeadlineSweep.js"
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

export const SessionDeadlineSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { sweeps } = yield* AppConfig
    const sweep = yield* SessionDeadlineSweep
    yield* sweepLoop("session_deadlines", sweeps.sessionDeadlines, sweep.tick())
  })
)

/**
 * The periodic loops with their services (the mirror's catch-up on reconnect is
 * `MirrorCatchUp.ts`, built with start-up). Each loop layer above takes its sweep service from
 * the context, so a test can run one loop over services of its choosing.
 */
export const SweepsLive = Layer.mergeAll(
  AutoOfflineSweepLive,
  HeartbeatMirrorSweepLive,
  ReseedSweepLive,
  AuthSessionPruneSweepLive,
  SessionDeadlineSweepLive
).pipe(
  Layer.provide(Layer.mergeAll(
    AutoOfflineSweep.Default,
    HeartbeatMirrorSweep.Default,
    ReseedSweep.Default,
    AuthSessionPruneSweep.Default,
    SessionDeadlineSweep.Default
  ))
)
