/**
 * Spans for the hot paths. `Effect.withSpan` costs CPU even while tracing is off (a no-op span is
 * still made and set on the fiber: ~8 µs here, as much as a heartbeat's own Effect work), so a
 * path run thousands of times a second opens its span only when the fiber traces.
 */
import { Effect, FiberRef } from "effect"

/** `Effect.withSpan(name)` when the fiber's tracer is on; `self` alone when it is off. */
export const withSpanWhenTraced = (name: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    FiberRef.get(FiberRef.currentTracerEnabled),
    (traced) => traced ? Effect.withSpan(self, name, { captureStackTrace: false }) : self
  )
