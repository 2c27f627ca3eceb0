/**
 * At most one run of an effect at a time in this process: callers that arrive while it runs wait
 * for that run's result instead of starting their own (a cache miss under load computes once).
 * The run is forked into `scope`, so a caller giving up does not cancel it for the others.
 */
import { Deferred, Effect, Exit, FiberId, Option, Ref, type Scope } from "effect"

export const makeSingleFlight = <A, E>(effect: Effect.Effect<A, E>, scope: Scope.Scope) =>
  Effect.map(Ref.make(Option.none<Deferred.Deferred<A, E>>()), (running) =>
    Effect.flatten(Ref.modify(running, (current) => {
      if (Option.isSome(current)) return [Deferred.await(current.value), current]
      const deferred = Deferred.unsafeMake<A, E>(FiberId.none)
      const lead = effect.pipe(
        Effect.exit,
        Effect.flatMap((exit) => Deferred.done(deferred, exit)),
        Effect.zipRight(Ref.set(running, Option.none())),
        Effect.onInterrupt(() =>
          Deferred.done(deferred, Exit.interrupt(FiberId.none)).pipe(Effect.zipRight(Ref.set(running, Option.none())))
        ),
        Effect.forkIn(scope),
        Effect.zipRight(Deferred.await(deferred))
      )
      return [lead, Option.some(deferred)]
    })))
