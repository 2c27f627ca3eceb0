/**
 * Claims that something happens *eventually* (a key expires, a client reconnects), proven without
 * betting on how long it takes: ask again at a spaced interval until the answer is the awaited
 * one, and fail the test with a message that says what never happened if a generous deadline
 * passes first. Real time: for `it.live` / `it.scopedLive` (under the `TestClock` it would wait forever).
 */
import { Duration, Effect, Schedule } from "effect"

export interface EventuallyOptions {
  /** The pause between two asks (default 20 ms). */
  readonly every?: Duration.DurationInput
  /** How long to keep asking before failing (default 10 s). */
  readonly within?: Duration.DurationInput
}

/** Repeats `ask` until `done` holds for its answer (returned), or fails with `never` after `within`. */
export const eventually = <A, E, R>(
  ask: Effect.Effect<A, E, R>,
  done: (answer: A) => boolean,
  never: string,
  options: EventuallyOptions = {}
) => {
  const within = options.within ?? Duration.seconds(10)
  return ask.pipe(
    Effect.repeat(Schedule.recurUntil(done).pipe(Schedule.addDelay(() => options.every ?? Duration.millis(20)))),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`${never} (waited ${Duration.format(within)})`) })
  )
}
