/**
 * The one seam every session and offer change goes through after it commits: `publish`. The
 * event streams of this instance read `subscribe`: every batch published on any instance, and the
 * state of the transport that carries them between instances — while it is down, batches from
 * other instances are missed, so the streams re-read their state from Postgres (docs/events.md).
 * Postgres stays the truth: an event is a doorbell that saves a poll, so losing one costs
 * latency, never an offer.
 *
 * Implementations: `InProcess` below (one instance, in-memory mode, tests) and Valkey pub/sub
 * (`src/events/ValkeyEventTransport.ts`).
 */
import { Clock, Context, Effect, Layer, PubSub, type Queue, type Scope } from "effect"
import type { EventBatch, SessionEvent } from "./SessionEvent.js"

/** What a subscriber receives: published events, or a change of the transport's connection. */
export type EventDelivery =
  | { readonly _tag: "Batch"; readonly batch: EventBatch }
  /** `connected: false` — other instances' events are not arriving; true — they are again. */
  | { readonly _tag: "Transport"; readonly connected: boolean }

export interface SessionEventsShape {
  /** Announces committed changes (never fails: a lost doorbell costs latency only). */
  readonly publish: (events: ReadonlyArray<SessionEvent>) => Effect.Effect<void>
  /** Every delivery from now on, for as long as the scope lasts (changes of `connected` included). */
  readonly subscribe: Effect.Effect<Queue.Dequeue<EventDelivery>, never, Scope.Scope>
  /** Whether other instances' events are arriving now (read it after subscribing). */
  readonly connected: Effect.Effect<boolean>
}

export class SessionEvents extends Context.Tag("mitra/SessionEvents")<SessionEvents, SessionEventsShape>() {
  /** Delivery within this process (one instance, and tests): always connected. */
  static readonly InProcess = Layer.scoped(
    SessionEvents,
    Effect.gen(function*() {
      const hub = yield* Effect.acquireRelease(PubSub.unbounded<EventDelivery>(), PubSub.shutdown)
      return {
        publish: (events) =>
          events.length === 0
            ? Effect.void
            : Effect.flatMap(Clock.currentTimeMillis, (publishedAt) =>
              Effect.asVoid(PubSub.publish(hub, { _tag: "Batch", batch: { publishedAt, events } }))),
        subscribe: PubSub.subscribe(hub),
        connected: Effect.succeed(true)
      } satisfies SessionEventsShape
    })
  )
}
