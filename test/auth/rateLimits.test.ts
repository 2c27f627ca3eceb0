/**
 * The login and anonymous-customer rate limits through the HTTP API (docs/security.md, "Rate
 * limits"). Client addresses come from `X-Forwarded-For` with `TRUST_PROXY_HOPS=1`, so one test
 * server can play many clients. Each test runs its own app with tight limits set explicitly.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { counterValue } from "../support/metrics.js"
import { rateLimited, rateLimitFallbacks } from "../../src/ratelimit/RateLimitMetrics.js"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { createCcUser, createMitra, fixturePassword } from "../support/fixtures.js"
import { get, post } from "../support/http.js"
import { recordingSpans } from "../support/spans.js"
import { TestApp, type TestAppOptions } from "../support/TestApp.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { randomKeyPrefix, testValkeyConnection } from "../support/TestValkey.js"
import { startTcpProxy } from "../support/tcpProxy.js"
import { startValkeyServer } from "../support/valkeyServer.js"

const tight = {
  LOGIN_MAX_FAILURES_PER_ACCOUNT: "3",
  LOGIN_ACCOUNT_WINDOW_SECONDS: "900",
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS: "5",
  LOGIN_ADDRESS_WINDOW_SECONDS: "60",
  ANONYMOUS_CUSTOMERS_PER_ADDRESS: "2",
  ANONYMOUS_CUSTOMERS_WINDOW_SECONDS: "60",
  TRUST_PROXY_HOPS: "1"
}

const app = (options: TestAppOptions = {}) => TestApp({ ...options, env: { ...tight, ...options.env } })

const from = (address: string) => ({ "x-forwarded-for": address })

const ccLogin = (email: string, password: string, address: string) =>
  post("/api/auth/cc/login", { json: { email, password }, headers: from(address) })

const mitraLogin = (phone: string, password: string, address: string) =>
  post("/api/auth/mitra/login", { json: { phone, password }, headers: from(address) })

const anonymous = (address: string) => post("/api/auth/customer/anonymous", { json: {}, headers: from(address) })

const customerCount = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ n: number }>`SELECT count(*)::int AS n FROM customers`.pipe(Effect.map(([row]) => row!.n), Effect.orDie))

/** A 429 as the contract describes it: JSON body and a Retry-After header that agree. */
const expectTooManyRequests = (response: { status: number; headers: Readonly<Record<string, string>>; body: unknown }) => {
  expect(response.status).toBe(429)
  const body = response.body as { _tag: string; message: string; retryAfterSeconds: number }
  expect(body).toMatchObject({ _tag: "TooManyRequests", message: expect.any(String), retryAfterSeconds: expect.any(Number) })
  expect(Object.keys(body).sort()).toEqual(["_tag", "message", "retryAfterSeconds"])
  expect(response.headers["retry-after"]).toBe(String(body.retryAfterSeconds))
  return body.retryAfterSeconds
}

describe("login rate limits", () => {
  it.scopedLive("3 wrong passwords for an email, from 3 addresses → the 4th is 429 even with the right password, and runs no KDF and no query", () =>
    recordingSpans((spans) =>
      Effect.gen(function*() {
        const user = yield* createCcUser({ email: "limited@example.com", password: fixturePassword })
        const limitedBefore = yield* counterValue(rateLimited, { limit: "login_account" })
        // Any case of the email is the same account; each attempt from another address.
        for (const [i, email] of ["limited@example.com", "LIMITED@example.com", "Limited@Example.COM"].entries()) {
          const wrong = yield* ccLogin(email, "not-the-password", `203.0.113.${i + 1}`)
          expect(wrong.status, wrong.text).toBe(401)
        }

        // The control: a counted attempt looks the account up and runs the KDF.
        expect(spans.map((span) => span.name)).toEqual(expect.arrayContaining(["Passwords.verify", "sql.execute"]))
        spans.length = 0
        const limited = yield* ccLogin(user.email, fixturePassword, "203.0.113.99")
        const retryAfter = expectTooManyRequests(limited)
        expect(retryAfter).toBeGreaterThan(890)
        expect(retryAfter).toBeLessThanOrEqual(900)
        const names = spans.map((span) => span.name)
        expect(names).toContain("RateLimiter.consume")
        expect(names).not.toContain("Passwords.verify")
        expect(names.filter((name) => name.startsWith("sql."))).toEqual([])
        expect(yield* counterValue(rateLimited, { limit: "login_account" })).toBe(limitedBefore + 1)

        // Another account is not affected.
        const other = yield* createCcUser({ password: fixturePassword })
        expect((yield* ccLogin(other.email, fixturePassword, "203.0.113.99")).status).toBe(200)
      }).pipe(Effect.provide(app()))
    ))

  it.scopedLive("mitras are limited by phone, and an unknown phone exactly like a known one", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra({ password: fixturePassword })
      for (const phone of [mitra.phone, "+628000000001"]) {
        for (let i = 0; i < 3; i++) expect((yield* mitraLogin(phone, "wrong-password", `198.51.100.${i}`)).status).toBe(401)
        expectTooManyRequests(yield* mitraLogin(phone, fixturePassword, "198.51.100.50"))
      }
    }).pipe(Effect.provide(app())))

  it.scopedLive("a correct password clears the account's failures", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser({ password: fixturePassword })
      for (let i = 0; i < 2; i++) expect((yield* ccLogin(user.email, "wrong-password", `192.0.2.${i}`)).status).toBe(401)
      expect((yield* ccLogin(user.email, fixturePassword, "192.0.2.10")).status).toBe(200)
      // Three more failures fit again; only the fourth after them is refused.
      for (let i = 0; i < 3; i++) expect((yield* ccLogin(user.email, "wrong-password", `192.0.2.${20 + i}`)).status).toBe(401)
      expectTooManyRequests(yield* ccLogin(user.email, fixturePassword, "192.0.2.30"))
    }).pipe(Effect.provide(app())))

  it.scopedLive("a deactivated account's correct password clears its failures too (it learns 403 as before)", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser({ password: fixturePassword, isActive: false })
      for (let i = 0; i < 2; i++) expect((yield* ccLogin(user.email, "wrong-password", `192.0.2.${i}`)).status).toBe(401)
      expect((yield* ccLogin(user.email, fixturePassword, "192.0.2.10")).status).toBe(403)
      for (let i = 0; i < 3; i++) expect((yield* ccLogin(user.email, "wrong-password", `192.0.2.${20 + i}`)).status).toBe(401)
      expectTooManyRequests(yield* ccLogin(user.email, fixturePassword, "192.0.2.30"))
    }).pipe(Effect.provide(app())))

  it.scopedLive("one address trying many accounts hits the per-address limit; other addresses do not", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser({ password: fixturePassword })
      const mitra = yield* createMitra({ password: fixturePassword })
      // Attempts of both kinds and any outcome count: 5 per minute from 203.0.113.7.
      expect((yield* ccLogin(user.email, fixturePassword, "203.0.113.7")).status).toBe(200)
      expect((yield* mitraLogin(mitra.phone, fixturePassword, "203.0.113.7")).status).toBe(200)
      for (let i = 0; i < 3; i++) expect((yield* ccLogin(`nobody${i}@example.com`, "guess", "203.0.113.7")).status).toBe(401)
      const retryAfter = expectTooManyRequests(yield* ccLogin(user.email, fixturePassword, "203.0.113.7"))
      expect(retryAfter).toBeLessThanOrEqual(60)
      expectTooManyRequests(yield* mitraLogin(mitra.phone, fixturePassword, "203.0.113.7"))
      // The accounts themselves are fine from elsewhere.
      expect((yield* ccLogin(user.email, fixturePassword, "203.0.113.8")).status).toBe(200)
      expect((yield* mitraLogin(mitra.phone, fixturePassword, "203.0.113.8")).status).toBe(200)
    }).pipe(Effect.provide(app())))

  it.scopedLive("without TRUST_PROXY_HOPS, X-Forwarded-For is ignored: rotating it does not dodge the per-address limit", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 5; i++) expect((yield* ccLogin(`nobody${i}@example.com`, "guess", `10.9.0.${i}`)).status).toBe(401)
      expectTooManyRequests(yield* ccLogin("nobody9@example.com", "guess", "10.9.0.99"))
    }).pipe(Effect.provide(app({ env: { TRUST_PROXY_HOPS: "0" } }))))

  it.scopedLive("two instances on one Valkey share the counts", () =>
    Effect.gen(function*() {
      const database = yield* cloneTemplateDatabase
      const keyPrefix = randomKeyPrefix()
      const instance = () =>
        Layer.build(app({ database: pgClientLayer(database.url, 2), valkey: testValkeyConnection({ keyPrefix }) }))
      const [a, b] = [yield* instance(), yield* instance()]
      const user = yield* createCcUser({ password: fixturePassword }).pipe(Effect.provide(a))
      const onA = yield* Effect.provide(ccLogin(user.email, "wrong-password", "192.0.2.1"), a)
      const onB = yield* Effect.provide(ccLogin(user.email, "wrong-password", "192.0.2.2"), b)
      const againOnA = yield* Effect.provide(ccLogin(user.email, "wrong-password", "192.0.2.3"), a)
      expect([onA.status, onB.status, againOnA.status]).toEqual([401, 401, 401])
      expectTooManyRequests(yield* Effect.provide(ccLogin(user.email, fixturePassword, "192.0.2.4"), b))

      for (const instance of [a, a]) expect((yield* Effect.provide(anonymous("192.0.2.9"), instance)).status).toBe(201)
      expectTooManyRequests(yield* Effect.provide(anonymous("192.0.2.9"), b))
    }))

  it.scopedLive("with Valkey stopped, each instance limits in its own memory and logins still answer (never 5xx)", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startValkeyServer()), (s) => Effect.promise(() => s.stop()))
      yield* Effect.gen(function*() {
        const user = yield* createCcUser({ password: fixturePassword })
        const connection = yield* ValkeyConnection
        yield* Effect.promise(() => server.stop())
        expect(yield* connection.state).toBe("degraded")
        const fallbacksBefore = yield* counterValue(rateLimitFallbacks)

        expect((yield* ccLogin(user.email, fixturePassword, "192.0.2.1")).status).toBe(200)
        for (let i = 0; i < 3; i++) expect((yield* ccLogin(user.email, "wrong-password", `192.0.2.${i}`)).status).toBe(401)
        expectTooManyRequests(yield* ccLogin(user.email, fixturePassword, "192.0.2.5"))

        expect((yield* anonymous("192.0.2.9")).status).toBe(201)
        expect((yield* anonymous("192.0.2.9")).status).toBe(201)
        expectTooManyRequests(yield* anonymous("192.0.2.9"))
        expect(yield* counterValue(rateLimitFallbacks)).toBeGreaterThan(fallbacksBefore)
      }).pipe(Effect.provide(app({ valkey: testValkeyConnection({ url: server.url }) })))
    }))

  it.scoped("after the window, the right password works again (TestClock, memory mode)", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser({ password: fixturePassword })
      for (let i = 0; i < 3; i++) expect((yield* ccLogin(user.email, "wrong-password", `192.0.2.${i}`)).status).toBe(401)
      const retryAfter = expectTooManyRequests(yield* ccLogin(user.email, fixturePassword, "192.0.2.5"))
      expect(retryAfter).toBe(900)
      yield* TestClock.adjust("899 seconds")
      expect(expectTooManyRequests(yield* ccLogin(user.email, fixturePassword, "192.0.2.5"))).toBe(1)
      yield* TestClock.adjust("1 second")
      expect((yield* ccLogin(user.email, fixturePassword, "192.0.2.5")).status).toBe(200)
    }).pipe(Effect.provide(app({ valkey: Layer.succeed(ValkeyConnection, ValkeyConnection.disabled) }))))

  it.scopedLive("a database failure does not count as a failed login (an outage locks no one out)", () =>
    Effect.gen(function*() {
      const database = yield* cloneTemplateDatabase
      const target = new URL(database.url)
      const proxy = yield* Effect.promise(() => startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }))
      const viaProxy = new URL(database.url)
      viaProxy.port = String(proxy.port)
      yield* Effect.gen(function*() {
        const user = yield* createCcUser({ password: fixturePassword })
        for (let i = 0; i < 2; i++) expect((yield* ccLogin(user.email, "wrong-password", `192.0.2.${i}`)).status).toBe(401)
        yield* Effect.promise(() => proxy.cut())
        // One failure is left before the account's limit; five outage answers use none of it
        // (were they counted, the second would already be 429).
        for (let i = 0; i < 5; i++) expect((yield* ccLogin(user.email, fixturePassword, `192.0.2.${10 + i}`)).status).toBe(503)
        // The per-address limit is checked before Postgres, so it still refuses while Postgres is down.
        for (let i = 0; i < 5; i++) expect((yield* ccLogin(user.email, fixturePassword, "192.0.2.50")).status).toBe(503)
        expectTooManyRequests(yield* ccLogin(user.email, fixturePassword, "192.0.2.50"))
      }).pipe(Effect.provide(app({ database: pgClientLayer(viaProxy.toString(), 2) })))
    }))
})

describe("anonymous customer rate limit", () => {
  it.scopedLive("2 per address per minute: the 3rd is 429 and inserts no customer; another address still gets one", () =>
    Effect.gen(function*() {
      expect((yield* anonymous("203.0.113.1")).status).toBe(201)
      expect((yield* anonymous("203.0.113.1")).status).toBe(201)
      const before = yield* customerCount
      const retryAfter = expectTooManyRequests(yield* anonymous("203.0.113.1"))
      expect(retryAfter).toBeLessThanOrEqual(60)
      expect(yield* customerCount).toBe(before)
      expect((yield* anonymous("203.0.113.2")).status).toBe(201)
      expect(yield* customerCount).toBe(before + 1)
    }).pipe(Effect.provide(app())))

  it.scopedLive("IPv6 clients count per /64: rotating within it does not dodge the limit", () =>
    Effect.gen(function*() {
      expect((yield* anonymous("2001:db8:1:2::1")).status).toBe(201)
      expect((yield* anonymous("2001:db8:1:2::2")).status).toBe(201)
      expectTooManyRequests(yield* anonymous("2001:db8:1:2:ffff::3"))
      expect((yield* anonymous("2001:db8:1:3::1")).status).toBe(201)
    }).pipe(Effect.provide(app())))

  it.scopedLive("0 switches one limit off and leaves the others on", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 6; i++) expect((yield* anonymous("203.0.113.1")).status).toBe(201)
      for (let i = 0; i < 5; i++) expect((yield* ccLogin(`nobody${i}@example.com`, "guess", "203.0.113.1")).status).toBe(401)
      expectTooManyRequests(yield* ccLogin("nobody9@example.com", "guess", "203.0.113.1"))
    }).pipe(Effect.provide(app({ env: { ANONYMOUS_CUSTOMERS_PER_ADDRESS: "0" } }))))
})

describe("the OpenAPI document", () => {
  it.scopedLive("declares 429 TooManyRequests on the limited routes only", () =>
    Effect.gen(function*() {
      const spec = (yield* get("/openapi.json")).body as {
        paths: Record<string, { post?: { responses: Record<string, unknown> } }>
      }
      for (const path of ["/api/auth/cc/login", "/api/auth/mitra/login", "/api/auth/customer/anonymous"]) {
        expect(JSON.stringify(spec.paths[path]!.post!.responses["429"]), path).toContain("TooManyRequests")
      }
      expect(spec.paths["/api/auth/refresh"]!.post!.responses["429"]).toBeUndefined()
    }).pipe(Effect.provide(app())))
})
