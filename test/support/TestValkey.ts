/**
 * Valkey for tests: the run's dedicated server (started by globalSetup), with a key prefix of
 * the layer's own so files and tests in parallel never share keys. Keys are deleted on release.
 */
import { Effect, Layer, Redacted } from "effect"
import { Redis } from "ioredis"
import { inject } from "vitest"
import { makeValkeyClient } from "../../src/valkey/ValkeyClient.js"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"

const waitFor = async (condition: () => Promise<boolean>, deadlineMs: number) => {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > deadlineMs) throw new Error("Valkey connection did not become ready")
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export const randomKeyPrefix = () => `t${Math.random().toString(36).slice(2, 10)}:`

const deleteKeysWithPrefix = (url: string, prefix: string) =>
  Effect.promise(async () => {
    const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true })
    redis.on("error", () => undefined)
    try {
      await redis.connect()
      let cursor = "0"
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
        cursor = next
        if (keys.length > 0) await redis.unlink(...keys)
      } while (cursor !== "0")
    } catch {
      // The server may be the one a test stopped on purpose; nothing to clean then.
    } finally {
      redis.disconnect()
    }
  })

/** A `ValkeyConnection` to `url` under `keyPrefix` (fresh by default), cleaned up on release. */
export const testValkeyConnection = (options: { url?: string; keyPrefix?: string; commandTimeoutMs?: number } = {}) =>
  Layer.scoped(
    ValkeyConnection,
    Effect.gen(function*() {
      const url = options.url ?? inject("valkeyUrl")
      const keyPrefix = options.keyPrefix ?? randomKeyPrefix()
      yield* Effect.addFinalizer(() => deleteKeysWithPrefix(url, keyPrefix))
      const client = yield* makeValkeyClient({ url: Redacted.make(url), commandTimeout: options.commandTimeoutMs ?? 500 })
      // Tests start once the connection is ready, as the service's start-up seed would wait for it.
      // Polled on real timers: tests that drive a TestClock build this layer too.
      yield* Effect.promise(() => waitFor(() => Effect.runPromise(client.isReady), 5_000))
      return ValkeyConnection.fromClient(client, keyPrefix)
    })
  )

/** The run's shared test server with a fresh prefix. */
export const TestValkeyLive = testValkeyConnection()
