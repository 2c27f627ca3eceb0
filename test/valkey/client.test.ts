import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, FiberStatus, Redacted, Schedule, Stream } from "effect"
import { makeValkeyClient } from "../../src/valkey/ValkeyClient.js"
import { eventually } from "../support/eventually.js"
import { startValkeyServer } from "../support/valkeyServer.js"

const ownServer = Effect.acquireRelease(
  Effect.promise(() => startValkeyServer()),
  (server) => Effect.promise(() => server.stop())
)

const waitUntilReady = (isReady: Effect.Effect<boolean>) =>
  isReady.pipe(
    Effect.repeat({ until: (ready) => ready, schedule: Schedule.spaced("10 millis") }),
    Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("Valkey never became ready") })
  )

describe("ValkeyClient", () => {
  it.scopedLive("fails a command with ValkeyError well within 1 s when its server is gone", () =>
    Effect.gen(function*() {
      const server = yield* ownServer
      const client = yield* makeValkeyClient({ url: Redacted.make(server.url), commandTimeout: 500 })
      yield* waitUntilReady(client.isReady)
      expect(Either.isRight(yield* Effect.either(client.use("SET", (r) => r.set("k", "v"))))).toBe(true)

      yield* Effect.promise(() => server.stop())
      for (let attempt = 0; attempt < 3; attempt++) {
        const [elapsed, result] = yield* Effect.either(client.use("GET", (r) => r.get("k"))).pipe(
          // The deadline is the contract under test: readers fall back within this bound.
          Effect.timeoutFail({ duration: "1 second", onTimeout: () => new Error("no answer within 1 s") }),
          Effect.timed
        )
        expect(Either.isLeft(result) && result.left._tag).toBe("ValkeyError")
        expect(Duration.toMillis(elapsed)).toBeLessThan(1_000)
      }
    }))

  it.scopedLive("fails within the command timeout when the server hangs (stopped with SIGSTOP)", () =>
    Effect.gen(function*() {
      const server = yield* ownServer
      const client = yield* makeValkeyClient({ url: Redacted.make(server.url), commandTimeout: 300 })
      yield* waitUntilReady(client.isReady)
      const pid = server.pid()!
      process.kill(pid, "SIGSTOP")
      yield* Effect.addFinalizer(() => Effect.sync(() => process.kill(pid, "SIGCONT")))
      const result = yield* Effect.either(client.use("GET", (r) => r.get("k"))).pipe(
        Effect.timeoutFail({ duration: "1 second", onTimeout: () => new Error("no answer within 1 s") })
      )
      expect(Either.isLeft(result) && result.left.message).toMatch(/timed out/i)
    }))

  it.scopedLive("reconnects by itself after a restart and announces the ready event", () =>
    Effect.gen(function*() {
      const server = yield* ownServer
      const client = yield* makeValkeyClient({ url: Redacted.make(server.url), commandTimeout: 300 })
      yield* waitUntilReady(client.isReady)
      const nextReady = yield* Effect.forkScoped(Stream.runHead(client.readyEvents))
      // The subscription opens when the forked fiber starts: only once it is suspended (on the
      // subscription's queue, its first wait) would a ready event reach it, not be dropped.
      yield* eventually(nextReady.status, FiberStatus.isSuspended, "the ready-event subscription never started")

      yield* Effect.promise(() => server.stop())
      yield* Effect.promise(() => server.start())
      yield* Fiber.join(nextReady).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("no ready event") }))
      expect(yield* client.isReady).toBe(true)
      expect(yield* client.use("PING", (r) => r.ping())).toBe("PONG")
    }))
})
