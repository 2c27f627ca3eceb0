/**
 * The rate limiter on its own: fixed windows on the TestClock (memory), the same counts shared by
 * two limiters on one Valkey prefix, atomic counting under concurrency, hashed key names, the
 * fallback to memory when Valkey fails, and the memory store's bound.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Either, Layer, Option, Schedule, TestClock } from "effect"
import { Redis } from "ioredis"
import { inject } from "vitest"
import { counterValue } from "../support/metrics.js"
import type { RateLimitSettings } from "../../src/config/AppConfig.js"
import { makeInMemoryRateLimitStore } from "../../src/ratelimit/InMemoryRateLimitStore.js"
import { rateLimited, rateLimitFallbacks } from "../../src/ratelimit/RateLimitMetrics.js"
import { makeRateLimiter, type RateLimits } from "../../src/ratelimit/RateLimiter.js"
import type { RateLimitStore } from "../../src/ratelimit/RateLimitStore.js"
import { makeValkeyRateLimitStore } from "../../src/ratelimit/ValkeyRateLimitStore.js"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { ValkeyError } from "../../src/valkey/ValkeyError.js"
import { randomKeyPrefix, testValkeyConnection } from "../support/TestValkey.js"

const secret = new TextEncoder().encode("a shared test secret")
const limit = (max: number, window: Duration.DurationInput): Option.Option<RateLimitSettings> =>
  Option.some({ max, window: Duration.decode(window) })

const limits = (overrides: Partial<RateLimits> = {}): RateLimits => ({
  login_account: limit(3, "1 minute"),
  login_address: limit(3, "1 minute"),
  anonymous_customer_address: limit(3, "1 minute"),
  session_request_customer: limit(3, "1 minute"),
  ...overrides
})

const inMemory = (overrides: Partial<RateLimits> = {}) =>
  makeRateLimiter({ limits: limits(overrides), shared: Option.none(), local: makeInMemoryRateLimitStore(), keySecret: secret, warn: (message) => Effect.logWarning(message) })

/** Retry-after seconds of a refusal, or "admitted". */
const outcome = (effect: Effect.Effect<unknown, { readonly retryAfterSeconds: number }>) =>
  Effect.map(Effect.either(effect), (result) => Either.isRight(result) ? "admitted" : result.left.retryAfterSeconds)

const failingStore: RateLimitStore = {
  hit: () => Effect.fail(new ValkeyError({ message: "Valkey rate limit hit failed: simulated outage" })),
  takeBack: () => Effect.fail(new ValkeyError({ message: "simulated outage" })),
  clear: () => Effect.fail(new ValkeyError({ message: "simulated outage" }))
}

/** A raw connection to the test server, to look at the keys the store wrote. */
const rawRedis = Effect.acquireRelease(
  Effect.sync(() => new Redis(inject("valkeyUrl"), { maxRetriesPerRequest: 0 })),
  (redis) => Effect.sync(() => redis.disconnect())
)

describe("RateLimiter in memory (TestClock)", () => {
  it.effect("admits max events per window, refuses the next with the seconds left, and admits again once the window ends", () =>
    Effect.gen(function*() {
      const limiter = inMemory()
      for (let i = 0; i < 3; i++) expect(yield* outcome(limiter.consume("login_account", "cc:a@b.c"))).toBe("admitted")
      expect(yield* outcome(limiter.consume("login_account", "cc:a@b.c"))).toBe(60)
      // Another key, and another limit with the same key, are counted apart.
      expect(yield* outcome(limiter.consume("login_account", "cc:other@b.c"))).toBe("admitted")
      expect(yield* outcome(limiter.consume("login_address", "cc:a@b.c"))).toBe("admitted")

      yield* TestClock.adjust("45 seconds")
      expect(yield* outcome(limiter.consume("login_account", "cc:a@b.c"))).toBe(15)
      yield* TestClock.adjust("15 seconds")
      expect(yield* outcome(limiter.consume("login_account", "cc:a@b.c"))).toBe("admitted")
    }))

  it.effect("refusals are counted in rate_limited_total by limit", () =>
    Effect.gen(function*() {
      const limiter = inMemory({ anonymous_customer_address: limit(1, "1 minute") })
      const before = yield* counterValue(rateLimited, { limit: "anonymous_customer_address" })
      yield* limiter.consume("anonymous_customer_address", "10.0.0.1")
      yield* Effect.either(limiter.consume("anonymous_customer_address", "10.0.0.1"))
      yield* Effect.either(limiter.consume("anonymous_customer_address", "10.0.0.1"))
      expect(yield* counterValue(rateLimited, { limit: "anonymous_customer_address" })).toBe(before + 2)
    }))

  it.effect("clear forgets the key's count; takeBack returns one event", () =>
    Effect.gen(function*() {
      const limiter = inMemory()
      yield* limiter.consume("login_account", "k")
      yield* limiter.consume("login_account", "k")
      const third = yield* limiter.consume("login_account", "k")
      yield* third.clear
      for (let i = 0; i < 3; i++) yield* limiter.consume("login_account", "k")
      expect(yield* outcome(limiter.consume("login_account", "k"))).toBe(60)

      const other = yield* limiter.consume("login_address", "k")
      yield* limiter.consume("login_address", "k")
      yield* other.takeBack // 1 counted: two more fit under 3
      expect(yield* outcome(limiter.consume("login_address", "k"))).toBe("admitted")
      expect(yield* outcome(limiter.consume("login_address", "k"))).toBe("admitted")
      expect(yield* outcome(limiter.consume("login_address", "k"))).toBe(60)
    }))

  it.effect("a limit set to None never refuses", () =>
    Effect.gen(function*() {
      const limiter = inMemory({ login_address: Option.none() })
      for (let i = 0; i < 100; i++) expect(yield* outcome(limiter.consume("login_address", "10.0.0.1"))).toBe("admitted")
    }))

  it.effect("the memory store stays within its bound: ended windows are swept, then the oldest dropped", () =>
    Effect.gen(function*() {
      const store = makeInMemoryRateLimitStore({ maxEntries: 3 })
      for (const key of ["a", "b", "c"]) yield* store.hit(key, Duration.seconds(10))
      yield* TestClock.adjust("11 seconds")
      yield* store.hit("d", Duration.seconds(10))
      expect(yield* store.size).toBe(1) // a, b, c had ended
      for (const key of ["e", "f", "g", "h"]) yield* store.hit(key, Duration.seconds(10))
      expect(yield* store.size).toBe(3)
      // d and e were the oldest: dropped, so they count from one again; h is still counted.
      expect((yield* store.hit("d", Duration.seconds(10))).count).toBe(1)
      expect((yield* store.hit("h", Duration.seconds(10))).count).toBe(2)
    }))
})

describe("RateLimiter on Valkey", () => {
  it.scopedLive("two limiters on one prefix (two instances) share one count; keys are hashed and expire", () =>
    Effect.gen(function*() {
      const keyPrefix = randomKeyPrefix()
      const connection = Context.get(yield* Layer.build(testValkeyConnection({ keyPrefix })), ValkeyConnection)
      const client = Option.getOrThrow(connection.client)
      const instance = () =>
        makeRateLimiter({
          limits: limits(),
          shared: Option.some(makeValkeyRateLimitStore(client, keyPrefix)),
          local: makeInMemoryRateLimitStore(),
          keySecret: secret,
          warn: (message) => Effect.logWarning(message)
        })
      const [a, b] = [instance(), instance()]
      yield* a.consume("login_account", "mitra:+628123456789")
      yield* b.consume("login_account", "mitra:+628123456789")
      yield* a.consume("login_account", "mitra:+628123456789")
      const refused = yield* outcome(b.consume("login_account", "mitra:+628123456789"))
      expect(refused).toBeGreaterThanOrEqual(59)
      expect(refused).toBeLessThanOrEqual(60)

      const redis = yield* rawRedis
      const keys = yield* Effect.promise(() => redis.keys(`${keyPrefix}*`))
      expect(keys).toHaveLength(1)
      expect(keys[0]).toMatch(new RegExp(`^${keyPrefix}ratelimit:login_account:[A-Za-z0-9_-]+$`))
      expect(keys[0]).not.toContain("628123456789")
      const ttl = yield* Effect.promise(() => redis.pttl(keys[0]!))
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(60_000)
    }))

  it.scopedLive("concurrent events are counted atomically: exactly max of 20 are admitted", () =>
    Effect.gen(function*() {
      const keyPrefix = randomKeyPrefix()
      const connection = Context.get(yield* Layer.build(testValkeyConnection({ keyPrefix })), ValkeyConnection)
      const limiter = makeRateLimiter({
        limits: limits({ login_account: limit(5, "1 minute") }),
        shared: Option.some(makeValkeyRateLimitStore(Option.getOrThrow(connection.client), keyPrefix)),
        local: makeInMemoryRateLimitStore(),
        keySecret: secret,
        warn: (message) => Effect.logWarning(message)
      })
      const outcomes = yield* Effect.all(
        Array.from({ length: 20 }, () => outcome(limiter.consume("login_account", "cc:x@y.z"))),
        { concurrency: "unbounded" }
      )
      expect(outcomes.filter((o) => o === "admitted")).toHaveLength(5)
    }))

  it.scopedLive("a window ends on the server's clock: once the key is gone, the key is admitted again", () =>
    Effect.gen(function*() {
      const keyPrefix = randomKeyPrefix()
      const connection = Context.get(yield* Layer.build(testValkeyConnection({ keyPrefix })), ValkeyConnection)
      const store = makeValkeyRateLimitStore(Option.getOrThrow(connection.client), keyPrefix)
      const limiter = makeRateLimiter({
        limits: limits({ login_account: limit(1, "300 millis") }),
        shared: Option.some(store),
        local: makeInMemoryRateLimitStore(),
        keySecret: secret,
        warn: (message) => Effect.logWarning(message)
      })
      yield* limiter.consume("login_account", "k")
      expect(yield* outcome(limiter.consume("login_account", "k"))).toBe(1)
      const redis = yield* rawRedis
      // The deterministic signal: the window's key expiring on the server.
      yield* Effect.promise(() => redis.keys(`${keyPrefix}*`)).pipe(
        Effect.repeat({ until: (keys) => keys.length === 0, schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("5 seconds")
      )
      expect(yield* outcome(limiter.consume("login_account", "k"))).toBe("admitted")
    }))

  it.scopedLive("takeBack never revives an ended window nor goes below zero", () =>
    Effect.gen(function*() {
      const keyPrefix = randomKeyPrefix()
      const connection = Context.get(yield* Layer.build(testValkeyConnection({ keyPrefix })), ValkeyConnection)
      const store = makeValkeyRateLimitStore(Option.getOrThrow(connection.client), keyPrefix)
      const redis = yield* rawRedis
      yield* store.takeBack("absent")
      expect(yield* Effect.promise(() => redis.exists(`${keyPrefix}absent`))).toBe(0)
      yield* store.hit("k", Duration.minutes(1))
      yield* store.takeBack("k")
      yield* store.takeBack("k")
      expect(yield* Effect.promise(() => redis.get(`${keyPrefix}k`))).toBe("0")
      expect(yield* Effect.promise(() => redis.pttl(`${keyPrefix}k`))).toBeGreaterThan(0)
    }))
})

describe("RateLimiter when Valkey fails", () => {
  it.effect("counts in memory instead: still refuses over the limit, never fails otherwise, and counts the fallback", () =>
    Effect.gen(function*() {
      const limiter = makeRateLimiter({
        limits: limits(),
        shared: Option.some(failingStore),
        local: makeInMemoryRateLimitStore(),
        keySecret: secret,
        warn: (message) => Effect.logWarning(message)
      })
      const before = yield* counterValue(rateLimitFallbacks)
      const admissions = []
      for (let i = 0; i < 3; i++) admissions.push(yield* limiter.consume("login_account", "k"))
      // Follow-ups on an event counted in memory go to memory, never to the failing store.
      yield* admissions[0]!.takeBack
      expect(yield* outcome(limiter.consume("login_account", "k"))).toBe("admitted")
      expect(yield* outcome(limiter.consume("login_account", "k"))).toBe(60)
      expect(yield* counterValue(rateLimitFallbacks)).toBe(before + 5)
    }))

  it.effect("a follow-up that fails in Valkey is reported, not the caller's failure", () =>
    Effect.gen(function*() {
      let failing = false
      const flaky: RateLimitStore = {
        hit: (key, window) =>
          Effect.suspend(() => failing ? failingStore.hit(key, window) : Effect.succeed({ count: 1, resetsInMillis: 60_000 })),
        takeBack: (key) => Effect.suspend(() => failing ? failingStore.takeBack(key) : Effect.void),
        clear: (key) => Effect.suspend(() => failing ? failingStore.clear(key) : Effect.void)
      }
      const limiter = makeRateLimiter({ limits: limits(), shared: Option.some(flaky), local: makeInMemoryRateLimitStore(), keySecret: secret, warn: (message) => Effect.logWarning(message) })
      const admission = yield* limiter.consume("login_account", "k")
      failing = true
      const before = yield* counterValue(rateLimitFallbacks)
      yield* admission.clear
      yield* admission.takeBack
      expect(yield* counterValue(rateLimitFallbacks)).toBe(before + 2)
    }))
})
