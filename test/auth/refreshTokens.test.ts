/**
 * POST /api/auth/refresh and /logout: rotation, reuse detection, revocation, expiry, and the end of
 * a deactivated mitra's session — through the HTTP API on a real Postgres.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { hashRefreshToken } from "../../src/auth/RefreshSessions.js"
import { fixturePassword, loginAsCcUser, loginAsMitra } from "../support/fixtures.js"
import { get, patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

interface Pair {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
}

const refresh = (refreshToken: string) => post("/api/auth/refresh", { json: { refreshToken } })

const sessionOf = (refreshToken: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ revokedAt: Date | null; revokedReason: string | null }>`
      SELECT s.revoked_at, s.revoked_reason FROM auth_sessions s
      WHERE s.refresh_token_hash = ${hashRefreshToken(refreshToken)}
         OR s.id = (SELECT session_id FROM auth_session_rotated_tokens WHERE refresh_token_hash = ${hashRefreshToken(refreshToken)})
    `.pipe(Effect.map(([row]) => row), Effect.orDie))

const unauthorized = { _tag: "Unauthorized", message: "Invalid, expired or revoked refresh token" }

layer(TestApp(), { excludeTestServices: true })("refresh tokens", (it) => {
  it.effect("refresh rotates: a new pair each time, the new tokens work, the old refresh token no longer does", () =>
    Effect.gen(function*() {
      const first = yield* loginAsCcUser()
      const rotated = yield* refresh(first.refreshToken)
      expect(rotated.status).toBe(200)
      const second = rotated.body as Pair
      expect(second.refreshToken).not.toBe(first.refreshToken)
      expect(second.expiresIn).toBe(900)
      expect((yield* get("/internal/config", { token: second.accessToken })).status).toBe(200)

      const third = yield* refresh(second.refreshToken)
      expect(third.status).toBe(200)
      expect((third.body as Pair).refreshToken).not.toBe(second.refreshToken)
    }))

  it.effect("a replayed (already rotated) refresh token → 401, and its whole session is revoked", () =>
    Effect.gen(function*() {
      const { refreshToken: original } = yield* loginAsMitra()
      const current = ((yield* refresh(original)).body as Pair).refreshToken

      const replay = yield* refresh(original)
      expect(replay.status).toBe(401)
      expect(replay.body).toEqual(unauthorized)
      // The thief's replay also kills the legitimate holder's current token: the session is gone.
      expect((yield* refresh(current)).status).toBe(401)
      expect(yield* sessionOf(current)).toMatchObject({ revokedReason: "refresh_token_reused" })
    }))

  it.effect("two refreshes racing with one token: exactly one wins, and the session is then revoked as reused", () =>
    Effect.gen(function*() {
      const { refreshToken } = yield* loginAsCcUser()
      const results = yield* Effect.all([refresh(refreshToken), refresh(refreshToken)], { concurrency: 2 })
      expect(results.map((r) => r.status).sort()).toEqual([200, 401])
      const winner = results.find((r) => r.status === 200)!.body as Pair
      expect((yield* refresh(winner.refreshToken)).status).toBe(401)
    }))

  it.effect("logout → 204 and the refresh token is dead; logging out again, or with an unknown token, is also 204", () =>
    Effect.gen(function*() {
      const { refreshToken } = yield* loginAsCcUser()
      const logout = yield* post("/api/auth/logout", { json: { refreshToken } })
      expect(logout.status).toBe(204)
      expect(logout.text).toBe("")
      expect(yield* sessionOf(refreshToken)).toMatchObject({ revokedReason: "logout" })
      expect((yield* refresh(refreshToken)).status).toBe(401)
      expect((yield* post("/api/auth/logout", { json: { refreshToken } })).status).toBe(204)
      expect((yield* post("/api/auth/logout", { json: { refreshToken: "never-issued" } })).status).toBe(204)
    }))

  it.effect("logout with an already rotated token still ends the session", () =>
    Effect.gen(function*() {
      const { refreshToken: original } = yield* loginAsCcUser()
      const current = ((yield* refresh(original)).body as Pair).refreshToken
      expect((yield* post("/api/auth/logout", { json: { refreshToken: original } })).status).toBe(204)
      expect((yield* refresh(current)).status).toBe(401)
    }))

  it.effect("an expired refresh token → 401; an unknown one → 401", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { refreshToken } = yield* loginAsCcUser()
      yield* sql`
        UPDATE auth_sessions SET expires_at = now() - interval '1 second'
        WHERE refresh_token_hash = ${hashRefreshToken(refreshToken)}
      `
      expect((yield* refresh(refreshToken)).body).toEqual(unauthorized)
      expect((yield* refresh("x".repeat(43))).body).toEqual(unauthorized)
    }))

  it.effect("deactivating a mitra makes its refresh token fail at once (401) and its login 403", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const { mitra, refreshToken } = yield* loginAsMitra()
      const deactivate = yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json: { isActive: false } })
      expect(deactivate.status).toBe(200)

      expect((yield* refresh(refreshToken)).status).toBe(401)
      expect(yield* sessionOf(refreshToken)).toMatchObject({ revokedReason: "mitra_deactivated" })
      const login = yield* post("/api/auth/mitra/login", { json: { phone: mitra.phone, password: fixturePassword } })
      expect(login.status).toBe(403)
    }))

  it.effect("a session whose subject was deactivated behind the API's back is refused on refresh and revoked", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { mitra, refreshToken } = yield* loginAsMitra()
      yield* sql`UPDATE mitras SET is_active = false WHERE id = ${mitra.id}`
      expect((yield* refresh(refreshToken)).status).toBe(401)
      const [session] = yield* sql<{ revokedReason: string | null }>`
        SELECT revoked_reason FROM auth_sessions WHERE subject_id = ${mitra.id}
      `
      expect(session).toEqual({ revokedReason: "subject_inactive" })
    }))
})
