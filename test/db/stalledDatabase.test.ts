/**
 * A Postgres that stops answering — not refusing: silent, as behind a dead network path — costs a
 * request a 503 after the statement or connection deadline, never a hung request; and once the
 * path comes back the pool has healed: connections that were waiting for an answer were dropped,
 * so no request inherits one whose late answer would be read as its own.
 *
 * The deadlines are shortened for the test (1 s); each request also carries a generous guard (15 s)
 * so that a hang fails the test instead of stalling the suite — not a timing claim.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { createMitra, fixturePassword, loginAsMitra } from "../support/fixtures.js"
import { get, type JsonResponse, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { startTcpProxy } from "../support/tcpProxy.js"

const guard = <E, R>(request: Effect.Effect<JsonResponse, E, R>) =>
  request.pipe(Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => new Error("the request hung") }))

describe("a stalled Postgres", () => {
  it.scopedLive("requests answer 503 while it is silent, and the pool heals when it answers again", () =>
    Effect.gen(function*() {
      const database = yield* cloneTemplateDatabase
      const target = new URL(database.url)
      const proxy = yield* Effect.promise(() => startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }))
      const viaProxy = new URL(database.url)
      viaProxy.port = String(proxy.port)
      const timeouts = { queryTimeout: Duration.seconds(1), connectTimeout: Duration.seconds(1) }

      yield* Effect.gen(function*() {
        const { accessToken } = yield* loginAsMitra()
        const other = yield* createMitra({ password: fixturePassword })
        // Every pooled connection opened and idle, so the stall catches some mid-statement.
        yield* Effect.all(Array.from({ length: 4 }, () => get("/api/mitra/me", { token: accessToken })), { concurrency: 4 })

        proxy.stall()
        const during = yield* Effect.all([
          guard(get("/api/mitra/me", { token: accessToken })),
          guard(post("/api/auth/mitra/login", { json: { phone: other.phone, password: fixturePassword } })),
          guard(post("/api/auth/customer/anonymous", { json: {} })),
          guard(post("/api/mitra/status/online", { token: accessToken })),
          guard(get("/api/mitra/me", { token: accessToken })),
          guard(get("/api/mitra/me", { token: accessToken }))
        ], { concurrency: "unbounded" })
        for (const response of during) {
          expect(response.status, response.text).toBe(503)
          expect(response.body).toMatchObject({ _tag: "DatabaseUnavailable" })
        }

        proxy.resume()
        // More requests than the pool has connections, twice over: none may land on a connection
        // still owed an old answer.
        const after = yield* Effect.all(
          Array.from({ length: 12 }, (_, i) =>
            guard(i % 2 === 0 ? get("/api/mitra/me", { token: accessToken }) : post("/api/auth/customer/anonymous", { json: {} }))
          ),
          { concurrency: 6 }
        )
        for (const response of after) expect([200, 201], response.text).toContain(response.status)
        const me = after[0]!.body as { id: string }
        const again = yield* guard(get("/api/mitra/me", { token: accessToken }))
        expect(again.body).toEqual(me)
      }).pipe(Effect.provide(TestApp({ database: pgClientLayer(viaProxy.toString(), 4, timeouts) })))
    }))
})
