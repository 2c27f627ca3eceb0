/**
 * The one seam every session and offer change goes through after it commits: `publish`. Whoever
 * pushes changes to people (event streams) reads `subscribe`. Postgres stays the truth — an event
 * is a doorbell that saves a poll, so losing one costs latency, never an offer.
 *
 * The in-process implementation delivers within this process; a transport between instances
 * plugs in behind the same port.
 */
import { Context, Effect, Layer, PubSub, type Queue, type Scope } from "effect"
import type { SessionEvent } from "./SessionEvent.js"

export interface SessionEventsShape {
  /** Announces committed changes (never fails: a lost doorbell costs latency only). */
  readonly publish: (events: ReadonlyArray<SessionEvent>) => Effect.Effect<void>
  /** Every event published from now on, for as long as the scope lasts. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<SessionEvent>, never, Scope.Scope>
}

export class SessionEvents extends Context.Tag("mitra/SessionEvents")<SessionEvents, SessionEventsShape>() {
  /** Delivery within this process (one instance, and tests). */
  static readonly InProcess = Layer.scoped(
    SessionEvents,
    Effect.map(
      Effect.acquireRelease(PubSub.unbounded<SessionEvent>(), PubSub.shutdown),
      (hub): SessionEventsShape => ({
        publish: (events) => Effect.asVoid(PubSub.publishAll(hub, events)),
        subscribe: PubSub.subscribe(hub)
      })
    )
  )
}
