/** With Postgres unreachable, identity and control-center routes answer 503 JSON, never 500. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createCcUser, createMitra, fixturePassword } from "../support/fixtures.js"
import { get, patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { startTcpProxy } from "../support/tcpProxy.js"

describe("Postgres unreachable", () => {
  it.scopedLive("logins, refresh and /internal routes → 503 DatabaseUnavailable", () =>
    Effect.gen(function*() {
      const database = yield* cloneTemplateDatabase
      const target = new URL(database.url)
      const proxy = yield* Effect.promise(() => startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }))
      const viaProxy = new URL(database.url)
      viaProxy.port = String(proxy.port)

      yield* Effect.gen(function*() {
        const mitra = yield* createMitra({ password: fixturePassword })
        const user = yield* createCcUser({ password: fixturePassword })
        const login = yield* post("/api/auth/cc/login", { json: { email: user.email, password: fixturePassword } })
        expect(login.status).toBe(200)
        const { accessToken, refreshToken } = login.body as { accessToken: string; refreshToken: string }

        yield* Effect.promise(() => proxy.cut())
        const requests = [
          post("/api/auth/mitra/login", { json: { phone: mitra.phone, password: fixturePassword } }),
          post("/api/auth/cc/login", { json: { email: user.email, password: fixturePassword } }),
          post("/api/auth/customer/anonymous", { json: {} }),
          post("/api/auth/refresh", { json: { refreshToken } }),
          post("/api/auth/logout", { json: { refreshToken } }),
          get("/internal/mitras", { token: accessToken }),
          patch(`/internal/mitras/${mitra.id}`, { token: accessToken, json: { isActive: false } })
        ]
        for (const request of requests) {
          const response = yield* request
          expect(response.status, response.text).toBe(503)
          expect(response.body).toMatchObject({ _tag: "DatabaseUnavailable" })
        }
      }).pipe(Effect.provide(TestApp({ database: pgClientLayer(viaProxy.toString(), 2) })))
    }))
})
