/**
 * POST /api/auth/{cc,mitra}/login and /customer/anonymous through the HTTP API on a real Postgres:
 * who gets a token pair, who gets 401 (identical whether or not the account exists) or 403, and
 * that nothing is written for a request that does not decode.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { hashRefreshToken } from "../../src/auth/RefreshSessions.js"
import { createCcUser, createMitra, fixturePassword } from "../support/fixtures.js"
import { get, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

const sessionCount = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ n: number }>`SELECT count(*)::int AS n FROM auth_sessions`.pipe(Effect.map(([row]) => row!.n), Effect.orDie))

const tokenSubject = (accessToken: string) =>
  Effect.flatMap(AccessTokens, (tokens) => tokens.verify(accessToken)).pipe(Effect.orDie)

const invalidCredentials = { _tag: "Unauthorized", message: "Invalid credentials" }

layer(TestApp(), { excludeTestServices: true })("logins", (it) => {
  it.effect("a control-center user signs in with its email in any case; the refresh token is stored only as a hash", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const user = yield* createCcUser({ email: "Ops.Lead@Example.com", password: fixturePassword })

      const response = yield* post("/api/auth/cc/login", { json: { email: " ops.lead@EXAMPLE.com ", password: fixturePassword } })
      expect(response.status).toBe(200)
      const body = response.body as { accessToken: string; refreshToken: string; expiresIn: number }
      expect(body.expiresIn).toBe(900)
      expect(yield* tokenSubject(body.accessToken)).toEqual({ kind: "cc_user", subjectId: user.id })
      expect(body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/) // 256 random bits

      const rows = yield* sql<{ refreshTokenHash: string; subjectKind: string; days: number }>`
        SELECT refresh_token_hash, subject_kind, extract(epoch FROM expires_at - created_at) / 86400 AS days
        FROM auth_sessions WHERE subject_id = ${user.id}
      `
      expect(rows).toHaveLength(1)
      expect(rows[0]!.refreshTokenHash).toBe(hashRefreshToken(body.refreshToken))
      expect(rows[0]!.refreshTokenHash).not.toContain(body.refreshToken)
      expect(rows[0]!.subjectKind).toBe("cc_user")
      expect(Math.round(Number(rows[0]!.days))).toBe(30)

      expect((yield* get("/internal/config", { token: body.accessToken })).status).toBe(200)
    }))

  it.effect("a wrong password and an unknown email get the same 401 body, and no session", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser({ password: fixturePassword })
      const before = yield* sessionCount
      const wrongPassword = yield* post("/api/auth/cc/login", { json: { email: user.email, password: "not-the-password" } })
      const unknownUser = yield* post("/api/auth/cc/login", { json: { email: "nobody@example.com", password: fixturePassword } })
      expect(wrongPassword.status).toBe(401)
      expect(unknownUser.status).toBe(401)
      expect(wrongPassword.body).toEqual(invalidCredentials)
      expect(unknownUser.text).toBe(wrongPassword.text)
      expect(yield* sessionCount).toBe(before)
    }))

  it.effect("a deactivated control-center user gets 403 with its password and 401 without it", () =>
    Effect.gen(function*() {
      const user = yield* createCcUser({ password: fixturePassword, isActive: false })
      const right = yield* post("/api/auth/cc/login", { json: { email: user.email, password: fixturePassword } })
      expect(right.status).toBe(403)
      expect(right.body).toMatchObject({ _tag: "Forbidden" })
      const wrong = yield* post("/api/auth/cc/login", { json: { email: user.email, password: "not-the-password" } })
      expect(wrong.body).toEqual(invalidCredentials)
    }))

  it.effect("a mitra signs in with phone and password; its access token names the mitra", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra({ password: fixturePassword })
      const response = yield* post("/api/auth/mitra/login", { json: { phone: mitra.phone, password: fixturePassword } })
      expect(response.status).toBe(200)
      const body = response.body as { accessToken: string; refreshToken: string; expiresIn: number }
      expect(yield* tokenSubject(body.accessToken)).toEqual({ kind: "mitra", subjectId: mitra.id })
      expect(body.expiresIn).toBe(900)
    }))

  it.effect("a mitra's wrong password and an unknown phone get the same 401 body", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra({ password: fixturePassword })
      const before = yield* sessionCount
      const wrongPassword = yield* post("/api/auth/mitra/login", { json: { phone: mitra.phone, password: "wrong-password" } })
      const unknownPhone = yield* post("/api/auth/mitra/login", { json: { phone: "+6281999999999", password: fixturePassword } })
      expect(wrongPassword.status).toBe(401)
      expect(wrongPassword.body).toEqual(invalidCredentials)
      expect(unknownPhone.text).toBe(wrongPassword.text)
      expect(yield* sessionCount).toBe(before)
    }))

  it.effect("a deactivated mitra gets 403 only after a correct password (401 otherwise), and no session", () =>
    Effect.gen(function*() {
      const mitra = yield* createMitra({ password: fixturePassword, isActive: false })
      const before = yield* sessionCount
      const right = yield* post("/api/auth/mitra/login", { json: { phone: mitra.phone, password: fixturePassword } })
      expect(right.status).toBe(403)
      expect(right.body).toEqual({ _tag: "Forbidden", message: "This mitra account is deactivated" })
      const wrong = yield* post("/api/auth/mitra/login", { json: { phone: mitra.phone, password: "wrong-password" } })
      expect(wrong.status).toBe(401)
      expect(yield* sessionCount).toBe(before)
    }))

  it.effect("an anonymous customer gets a customers row and a token pair (201)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const named = yield* post("/api/auth/customer/anonymous", { json: { displayName: "  Sari  " } })
      expect(named.status).toBe(201)
      const body = named.body as { customerId: string; accessToken: string; refreshToken: string; expiresIn: number }
      expect(yield* tokenSubject(body.accessToken)).toEqual({ kind: "customer", subjectId: body.customerId })
      expect(body.refreshToken.length).toBeGreaterThan(40)
      const [row] = yield* sql<{ displayName: string | null; isAnonymous: boolean }>`
        SELECT display_name, is_anonymous FROM customers WHERE id = ${body.customerId}
      `
      expect(row).toEqual({ displayName: "Sari", isAnonymous: true })

      const unnamed = yield* post("/api/auth/customer/anonymous", { json: {} })
      expect(unnamed.status).toBe(201)
      const [other] = yield* sql<{ displayName: string | null }>`
        SELECT display_name FROM customers WHERE id = ${(unnamed.body as { customerId: string }).customerId}
      `
      expect(other).toEqual({ displayName: null })
    }))

  it.effect("login bodies that do not decode → 400 JSON, and nothing is written", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const mitra = yield* createMitra({ password: fixturePassword })
      const customersBefore = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM customers`)[0]!.n
      const sessionsBefore = yield* sessionCount
      const cases: ReadonlyArray<readonly [string, unknown]> = [
        ["/api/auth/mitra/login", { phone: "08123456789", password: fixturePassword }], // not E.164
        ["/api/auth/mitra/login", { phone: "+0123456789", password: fixturePassword }],
        ["/api/auth/mitra/login", { phone: "+62 812 3456 789", password: fixturePassword }],
        ["/api/auth/mitra/login", { phone: mitra.phone, password: "" }], // empty password
        ["/api/auth/mitra/login", { phone: mitra.phone }],
        ["/api/auth/mitra/login", { phone: 6281234567, password: fixturePassword }], // wrong types
        ["/api/auth/mitra/login", { phone: mitra.phone, password: 12345678 }],
        ["/api/auth/mitra/login", { phone: mitra.phone, password: "x".repeat(129) }],
        ["/api/auth/cc/login", { email: "not-an-email", password: fixturePassword }],
        ["/api/auth/cc/login", { email: "a\u0000b@example.com", password: fixturePassword }],
        ["/api/auth/cc/login", { email: "ops@example.com", password: "" }],
        ["/api/auth/cc/login", { email: null, password: null }],
        ["/api/auth/cc/login", []],
        ["/api/auth/cc/login", "text"],
        ["/api/auth/customer/anonymous", { displayName: "" }],
        ["/api/auth/customer/anonymous", { displayName: 42 }],
        ["/api/auth/customer/anonymous", { displayName: "x".repeat(101) }],
        ["/api/auth/customer/anonymous", null],
        ["/api/auth/refresh", { refreshToken: "" }],
        ["/api/auth/refresh", {}],
        ["/api/auth/logout", { refreshToken: 7 }]
      ]
      for (const [path, json] of cases) {
        const response = yield* post(path, { json })
        expect(response.status, `${path} ${JSON.stringify(json)}`).toBe(400)
        expect(response.body).toMatchObject({ _tag: "HttpApiDecodeError" })
      }
      const malformed = yield* post("/api/auth/mitra/login", { rawJson: "{\"phone\": " })
      expect(malformed.status).toBe(400)
      expect(malformed.body).toMatchObject({ _tag: "BadRequest" })

      expect((yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM customers`)[0]!.n).toBe(customersBefore)
      expect(yield* sessionCount).toBe(sessionsBefore)
    }))
})
