/**
 * The connection to Valkey: one ioredis client per process, set to fail fast so a Valkey outage
 * turns into a `ValkeyError` within milliseconds (and readers fall back to Postgres) instead of
 * queueing commands until the server returns.
 */
import { Duration, Effect, PubSub, type Queue, Redacted, Runtime, type Scope, Stream } from "effect"
import { Redis, type RedisOptions } from "ioredis"
import { ValkeyError } from "./ValkeyError.js"
import { type SubscriberEvent, subscribeOn } from "./ValkeySubscriber.js"

export interface ValkeyClientShape {
  /** Runs one command (or pipeline, or script) against the raw client, mapping any failure. */
  readonly use: <A>(name: string, f: (redis: Redis) => Promise<A>) => Effect.Effect<A, ValkeyError>
  /** Emits each time the connection becomes ready: the first connect and every reconnect. */
  readonly readyEvents: Stream.Stream<void>
  /** Whether the connection is ready right now (no round trip). */
  readonly isReady: Effect.Effect<boolean>
  /** PING within the command timeout: the readiness probe. */
  readonly ping: Effect.Effect<void, ValkeyError>
  /** A subscription to `channel` on a connection of its own, closed with the scope (`ValkeySubscriber.ts`). */
  readonly subscribe: (channel: string) => Effect.Effect<Queue.Dequeue<SubscriberEvent>, never, Scope.Scope>
}

export interface ValkeyConnectionOptions {
  readonly url: Redacted.Redacted<string>
  readonly commandTimeout: Duration.DurationInput
}

/** Fail-fast options: no offline queue, no per-command retries, a command deadline, reconnect forever. */
export const failFastOptions = (commandTimeout: Duration.DurationInput): RedisOptions => ({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: Duration.toMillis(commandTimeout),
  connectTimeout: 2_000,
  lazyConnect: true,
  // Back off up to one second between attempts, and never give up: Valkey coming back is routine.
  retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 5), 1_000)
})

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@")

export const makeValkeyClient = (options: ValkeyConnectionOptions) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const ready = yield* Effect.acquireRelease(PubSub.sliding<void>(16), PubSub.shutdown)
    const url = Redacted.value(options.url)

    const redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(url, { ...failFastOptions(options.commandTimeout), enableAutoPipelining: true })
        let lastError = ""
        // Without an error listener ioredis prints every failed reconnect attempt as unhandled.
        client.on("error", (error: Error) => {
          if (error.message !== lastError) {
            lastError = error.message
            Runtime.runFork(runtime)(Effect.logWarning(`Valkey connection error: ${error.message}`))
          }
        })
        client.on("ready", () => {
          lastError = ""
          Runtime.runFork(runtime)(
            Effect.logInfo(`Valkey ready at ${redactUrl(url)}`).pipe(Effect.zipRight(PubSub.publish(ready, undefined)))
          )
        })
        return client
      }),
      (client) => Effect.promise(() => client.quit().catch(() => client.disconnect()))
    )
    // Start connecting without waiting: the service starts (degraded) even when Valkey is down.
    redis.connect().catch(() => undefined)

    const use = <A>(name: string, f: (redis: Redis) => Promise<A>) =>
      Effect.tryPromise({
        try: () => f(redis),
        catch: (cause) =>
          new ValkeyError({
            message: `Valkey ${name} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
            cause
          })
      })

    return {
      use,
      readyEvents: Stream.fromPubSub(ready),
      isReady: Effect.sync(() => redis.status === "ready"),
      ping: use("PING", (r) => r.ping()).pipe(Effect.asVoid),
      // A subscriber must not give up on SUBSCRIBE while connecting, hence its own offline queue.
      subscribe: (channel) => subscribeOn(() => redis.duplicate({ autoResubscribe: false, enableOfflineQueue: true }), channel)
    } satisfies ValkeyClientShape
  })
