/**
 * The HTTP surface of this part (API.md): a mitra's own profile and status routes, the public
 * beacon and the control center's dashboard — with Valkey, and in the in-memory mode.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { insertSession, mitraToken } from "../support/availability.js"
import { createMitra, loginAsCcUser } from "../support/fixtures.js"
import { get, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

describe("/api/mitra", () => {
  it.scopedLive("GET /me: profile, online state, live sessions and the effective maximum", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const token = yield* mitraToken(mitra.id)
      expect((yield* get("/api/mitra/me", { token })).body).toEqual({
        id: mitra.id,
        displayName: mitra.displayName,
        phone: mitra.phone,
        isActive: true,
        isOnline: false,
        liveSessions: 0,
        maxConcurrentSessions: 1
      })
      expect((yield* post("/api/mitra/status/online", { token })).body).toEqual({ isOnline: true })
      yield* insertSession({ mitraId: mitra.id, status: "active" })
      yield* insertSession({ mitraId: mitra.id, status: "searching" })
      expect((yield* get("/api/mitra/me", { token })).body).toMatchObject({ isOnline: true, liveSessions: 1 })
      expect((yield* post("/api/mitra/status/offline", { token })).body).toEqual({ isOnline: false })
      expect((yield* get("/api/mitra/me", { token })).body).toMatchObject({ isOnline: false })

      const roomy = yield* createMitra({ maxConcurrentSessions: 4 })
      expect((yield* get("/api/mitra/me", { token: yield* mitraToken(roomy.id) })).body).toMatchObject({ maxConcurrentSessions: 4 })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("401 without a mitra token, 403 for a deactivated mitra, on every route", () =>
    Effect.gen(function*() {
      const inactive = yield* createMitra({ isActive: false })
      const token = yield* mitraToken(inactive.id)
      for (const [method, path] of [["GET", "/api/mitra/me"], ["POST", "/api/mitra/status/online"], ["POST", "/api/mitra/status/offline"]] as const) {
        const call = method === "GET" ? get : post
        expect((yield* call(path)).status).toBe(401)
        const refused = yield* call(path, { token })
        expect(refused.status).toBe(403)
        expect(refused.body).toMatchObject({ _tag: "Forbidden" })
      }
    }).pipe(Effect.provide(TestApp())))
})

describe("GET /internal/dashboard", () => {
  it.scopedLive("counts online and available mitras, live and searching sessions, and reports Valkey", () =>
    Effect.gen(function*() {
      const cc = yield* loginAsCcUser({ permissions: { mitra: ["read"] } })
      const free = yield* createMitra()
      const busy = yield* createMitra()
      for (const m of [free, busy]) yield* post("/api/mitra/status/online", { token: yield* mitraToken(m.id) })
      yield* insertSession({ mitraId: busy.id, status: "active" })
      yield* post("/api/mitra/status/online", { token: yield* mitraToken(busy.id) })
      yield* insertSession({ mitraId: null, status: "searching" })
      const dashboard = yield* get("/internal/dashboard", { token: cc.accessToken })
      expect(dashboard.status).toBe(200)
      expect(dashboard.body).toEqual({ online: 2, available: 1, liveSessions: 1, searching: 1, valkey: "up" })
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("401 without a token, 403 without mitra:read", () =>
    Effect.gen(function*() {
      expect((yield* get("/internal/dashboard")).status).toBe(401)
      const cc = yield* loginAsCcUser({ permissions: { config: ["read"] } })
      const refused = yield* get("/internal/dashboard", { token: cc.accessToken })
      expect(refused.status).toBe(403)
      expect(refused.body).toMatchObject({ _tag: "Forbidden" })
    }).pipe(Effect.provide(TestApp())))
})

describe("in-memory mode (no VALKEY_URL)", () => {
  it.scopedLive("the same routes work on the in-memory store; the dashboard says Valkey is disabled", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra()
      const token = yield* mitraToken(mitra.id)
      expect((yield* post("/api/mitra/status/online", { token })).status).toBe(200)
      expect((yield* post("/api/mitra/status/heartbeat", { token })).status).toBe(204)
      expect((yield* get("/api/availability")).body).toMatchObject({ available: 1 })
      const cc = yield* loginAsCcUser()
      expect((yield* get("/internal/dashboard", { token: cc.accessToken })).body).toMatchObject({
        online: 1,
        available: 1,
        valkey: "disabled"
      })
    }).pipe(Effect.provide(TestApp({ valkey: Layer.succeed(ValkeyConnection, ValkeyConnection.disabled) }))))
})
