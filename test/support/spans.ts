/** Recording the spans code opens, to assert on tracing itself (names, attributes, SQL statements). */
import { Effect, Tracer } from "effect"

/**
 * Runs `effect(spans)` under a tracer that appends every span opened in it or its forks to
 * `spans` (a live array: a test may read or clear it between steps).
 */
export const recordingSpans = <A, E, R>(effect: (spans: Array<Tracer.Span>) => Effect.Effect<A, E, R>) =>
  Effect.tracerWith((native) => {
    const spans: Array<Tracer.Span> = []
    const recording = Tracer.make({
      span: (...args) => {
        const span = native.span(...args)
        spans.push(span)
        return span
      },
      context: native.context
    })
    return Effect.withTracer(effect(spans), recording)
  })

/** Runs `effect` and returns its value with every span it opened. */
export const withRecordedSpans = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  recordingSpans((spans) => Effect.map(effect, (value) => [value, spans as ReadonlyArray<Tracer.Span>] as const))
