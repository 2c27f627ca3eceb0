/**
 * A pub/sub subscription on its own connection (a connection in subscriber mode can run nothing
 * else): one per instance, however many clients it serves. It reconnects forever like the command
 * connection, subscribes again each time it is ready, and reports when it goes down and comes
 * back, because messages published meanwhile are lost and whoever relies on them must catch up.
 */
import { Effect, Queue, Runtime, type Scope } from "effect"
import type { Redis } from "ioredis"

export type SubscriberEvent =
  | { readonly _tag: "Message"; readonly payload: string }
  /** Subscribed (the first time, or again after a reconnect): messages arrive from now on. */
  | { readonly _tag: "Up" }
  /** The connection dropped: messages published from now until the next `Up` are lost. */
  | { readonly _tag: "Down"; readonly reason: string }

/**
 * Subscribes `connection` (a fresh, unconnected client, closed with the scope) to `channel`. The
 * queue is unbounded: its one reader only dispatches, and Valkey's output buffer limit for pub/sub
 * clients bounds what a stalled reader could pile up before the server drops the connection.
 */
export const subscribeOn = (
  connection: () => Redis,
  channel: string
): Effect.Effect<Queue.Dequeue<SubscriberEvent>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const events = yield* Effect.acquireRelease(Queue.unbounded<SubscriberEvent>(), Queue.shutdown)
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const redis = connection()
        let up = false
        const down = (reason: string) => {
          if (!up) return
          up = false
          events.unsafeOffer({ _tag: "Down", reason })
        }
        redis.on("error", () => undefined) // reported through "close" as a down event
        redis.on("close", () => down("connection closed"))
        redis.on("ready", () => {
          redis.subscribe(channel).then(
            () => {
              if (up) return
              up = true
              events.unsafeOffer({ _tag: "Up" })
            },
            (error: unknown) =>
              Runtime.runFork(runtime)(Effect.logWarning(`Valkey SUBSCRIBE ${channel} failed; retried on the next reconnect`, error))
          )
        })
        redis.on("message", (_channel: string, payload: string) => events.unsafeOffer({ _tag: "Message", payload }))
        redis.connect().catch(() => undefined)
        return redis
      }),
      (redis) => Effect.sync(() => redis.disconnect())
    )
    return events
  })
