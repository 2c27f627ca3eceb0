/**
 * `SessionEvents` across instances: each batch is PUBLISHed once on one channel
 * (`<prefix>session-events`), and every instance — the publisher too — receives it on its one
 * subscriber connection and hands it to its own streams. Pub/sub is a doorbell: a batch published
 * while an instance's subscription is down is lost to it, which its streams make good by re-reading
 * Postgres (`StreamHub`). A PUBLISH that fails is delivered on this instance only.
 *
 * `SessionEventsLive` picks this transport when Valkey is configured, and the in-process one in
 * in-memory mode.
 */
import { Clock, Effect, Layer, Metric, Option, PubSub, Queue, Schema } from "effect"
import { ThrottledLog } from "../observability/ThrottledLog.js"
import { EventBatch } from "../sessions/SessionEvent.js"
import { type EventDelivery, SessionEvents, type SessionEventsShape } from "../sessions/SessionEvents.js"
import type { ValkeyClientShape } from "../valkey/ValkeyClient.js"
import { ValkeyConnection } from "../valkey/ValkeyConnection.js"
import { publishFailures } from "./EventMetrics.js"

const encodeBatch = Schema.encodeSync(Schema.parseJson(EventBatch))
const decodeBatch = Schema.decodeUnknownEither(Schema.parseJson(EventBatch))

export const makeValkeyEventTransport = (client: ValkeyClientShape, keyPrefix: string) =>
  Effect.gen(function*() {
    const log = yield* ThrottledLog
    const channel = `${keyPrefix}session-events`
    const local = yield* Effect.acquireRelease(PubSub.unbounded<EventDelivery>(), PubSub.shutdown)
    let connected = false

    const incoming = yield* client.subscribe(channel)
    yield* Queue.take(incoming).pipe(
      Effect.flatMap((event) => {
        switch (event._tag) {
          case "Message": {
            const batch = decodeBatch(event.payload)
            return batch._tag === "Right"
              ? PubSub.publish(local, { _tag: "Batch", batch: batch.right })
              : log.warning("events", "An event batch on the Valkey channel did not decode; dropped", batch.left)
          }
          case "Up":
            connected = true
            return Effect.logInfo("Event transport: subscribed on Valkey; events from every instance arrive").pipe(
              Effect.zipRight(PubSub.publish(local, { _tag: "Transport", connected: true }))
            )
          case "Down":
            connected = false
            return Effect.logWarning(
              `Event transport down (${event.reason}): streams fall back to periodic catch-up reads until Valkey is back`
            ).pipe(Effect.zipRight(PubSub.publish(local, { _tag: "Transport", connected: false })))
        }
      }),
      Effect.forever,
      Effect.forkScoped
    )

    return {
      publish: (events) =>
        Effect.gen(function*() {
          if (events.length === 0) return
          const batch: EventBatch = { publishedAt: yield* Clock.currentTimeMillis, events }
          yield* client.use("PUBLISH", (redis) => redis.publish(channel, encodeBatch(batch))).pipe(
            Effect.catchAll((error) =>
              Effect.all([
                Metric.increment(publishFailures),
                log.warning("events", "Publishing session events to Valkey failed; delivered on this instance only", error),
                PubSub.publish(local, { _tag: "Batch", batch })
              ], { discard: true })
            )
          )
        }),
      subscribe: PubSub.subscribe(local),
      connected: Effect.sync(() => connected)
    } satisfies SessionEventsShape
  })

/** Valkey pub/sub when Valkey is configured; delivery within this process in in-memory mode. */
export const SessionEventsLive = Layer.unwrapScoped(
  Effect.map(ValkeyConnection, ({ client, keyPrefix }) =>
    Option.match(client, {
      onNone: () => SessionEvents.InProcess,
      onSome: (client) => Layer.scoped(SessionEvents, makeValkeyEventTransport(client, keyPrefix)).pipe(Layer.provide(ThrottledLog.Default))
    }))
)
