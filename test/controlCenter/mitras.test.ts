/**
 * /internal/mitras through the HTTP API on a real Postgres: create, read, list with filters and
 * cursor pages, edit, and deactivation with everything it must do in the same transaction.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createCustomer, createMitra, fixturePassword, loginAsCcUser, loginAsMitra } from "../support/fixtures.js"
import { get, patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

interface MitraBody {
  readonly id: string
  readonly displayName: string
  readonly phone: string
  readonly isActive: boolean
  readonly isOnline: boolean
  readonly liveSessions: number
  readonly maxConcurrentSessions: number | null
  readonly lastHeartbeatAt: string | null
  readonly createdAt: string
  readonly updatedAt: string
}

interface Page {
  readonly items: ReadonlyArray<MitraBody>
  readonly nextCursor: string | null
}

const mitraCount = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ n: number }>`SELECT count(*)::int AS n FROM mitras`.pipe(Effect.map(([row]) => row!.n), Effect.orDie))

const mitraRow = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ displayName: string; isActive: boolean; maxConcurrentSessions: number | null; passwordHash: string }>`
      SELECT display_name, is_active, max_concurrent_sessions, password_hash FROM mitras WHERE id = ${id}
    `.pipe(Effect.map(([row]) => row), Effect.orDie))

const addChatSession = (mitraId: string, status: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const customer = yield* createCustomer()
    yield* sql`INSERT INTO chat_sessions (customer_id, mitra_id, status) VALUES (${customer.id}, ${mitraId}, ${status})`
  }).pipe(Effect.orDie)

const mitraLogin = (phone: string, password = fixturePassword) =>
  post("/api/auth/mitra/login", { json: { phone, password } })

layer(TestApp(), { excludeTestServices: true })("/internal/mitras", (it) => {
  it.effect("POST creates a mitra (201) whose password is stored as a scrypt hash and signs it in", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const response = yield* post("/internal/mitras", {
        token: admin.accessToken,
        json: { displayName: "  Dewi  ", phone: "+628111222333", password: "correct horse", maxConcurrentSessions: 2 }
      })
      expect(response.status).toBe(201)
      const { mitra } = response.body as { mitra: MitraBody }
      expect(mitra).toMatchObject({
        displayName: "Dewi",
        phone: "+628111222333",
        isActive: true,
        isOnline: false,
        liveSessions: 0,
        maxConcurrentSessions: 2,
        lastHeartbeatAt: null
      })
      expect(new Date(mitra.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000)
      const row = yield* mitraRow(mitra.id)
      expect(row!.passwordHash).toMatch(/^scrypt\$/)
      expect(row!.passwordHash).not.toContain("correct horse")
      expect((yield* mitraLogin("+628111222333", "correct horse")).status).toBe(200)
    }))

  it.effect("POST with a phone already taken → 409 DuplicatePhone and no new row", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const existing = yield* createMitra()
      const before = yield* mitraCount
      const response = yield* post("/internal/mitras", {
        token: admin.accessToken,
        json: { displayName: "Other", phone: existing.phone, password: fixturePassword }
      })
      expect(response.status).toBe(409)
      expect(response.body).toMatchObject({ _tag: "DuplicatePhone", phone: existing.phone })
      expect(yield* mitraCount).toBe(before)
    }))

  it.effect("POST bodies that do not decode → 400 JSON and no row", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const before = yield* mitraCount
      const valid = { displayName: "Ayu", phone: "+628123000111", password: fixturePassword }
      const bodies: ReadonlyArray<unknown> = [
        { ...valid, phone: "08123000111" },
        { ...valid, phone: "+62 812 3000 111" },
        { ...valid, phone: "+0812300011" },
        { ...valid, phone: "+62812300011123456" }, // 17 digits
        { ...valid, phone: 628123000111 },
        { ...valid, password: "" },
        { ...valid, password: "short" },
        { ...valid, password: "x".repeat(129) },
        { ...valid, displayName: "" },
        { ...valid, displayName: "   " },
        { ...valid, displayName: null },
        { phone: valid.phone, password: valid.password },
        { ...valid, maxConcurrentSessions: 0 },
        { ...valid, maxConcurrentSessions: 1.5 },
        { ...valid, maxConcurrentSessions: "2" },
        [],
        "mitra"
      ]
      for (const json of bodies) {
        const response = yield* post("/internal/mitras", { token: admin.accessToken, json })
        expect(response.status, JSON.stringify(json)).toBe(400)
        expect(response.body).toMatchObject({ _tag: "HttpApiDecodeError" })
      }
      expect(yield* mitraCount).toBe(before)
    }))

  it.effect("GET one: online state, live sessions (active + pending_payment only) and last heartbeat from Postgres", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const heartbeat = new Date("2026-01-02T03:04:05.678Z")
      const mitra = yield* createMitra({ isOnline: true, lastHeartbeatAt: heartbeat, maxConcurrentSessions: 3 })
      for (const status of ["active", "pending_payment", "ended", "cancelled", "rerouted"]) {
        yield* addChatSession(mitra.id, status)
      }
      const response = yield* get(`/internal/mitras/${mitra.id}`, { token: admin.accessToken })
      expect(response.status).toBe(200)
      expect((response.body as { mitra: MitraBody }).mitra).toMatchObject({
        id: mitra.id,
        isOnline: true,
        liveSessions: 2,
        maxConcurrentSessions: 3,
        lastHeartbeatAt: heartbeat.toISOString()
      })
    }))

  it.effect("GET one: unknown id → 404 MitraNotFound; malformed id → 400", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const missing = yield* get(`/internal/mitras/${randomUUID()}`, { token: admin.accessToken })
      expect(missing).toMatchObject({ status: 404, body: { _tag: "MitraNotFound" } })
      for (const id of ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"]) {
        const malformed = yield* get(`/internal/mitras/${id}`, { token: admin.accessToken })
        expect(malformed, id).toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError" } })
      }
      const patchMalformed = yield* patch("/internal/mitras/not-a-uuid", { token: admin.accessToken, json: { isActive: false } })
      expect(patchMalformed.status).toBe(400)
    }))

  it.effect("PATCH edits display name and capacity (null = back to the global default)", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const mitra = yield* createMitra()
      const first = yield* patch(`/internal/mitras/${mitra.id}`, {
        token: admin.accessToken,
        json: { displayName: "Renamed", maxConcurrentSessions: 4 }
      })
      expect(first.status).toBe(200)
      expect((first.body as { mitra: MitraBody }).mitra).toMatchObject({ displayName: "Renamed", maxConcurrentSessions: 4 })
      const second = yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json: { maxConcurrentSessions: null } })
      expect((second.body as { mitra: MitraBody }).mitra).toMatchObject({ displayName: "Renamed", maxConcurrentSessions: null })
      const empty = yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json: {} })
      expect(empty.status).toBe(200)
      expect(yield* mitraRow(mitra.id)).toMatchObject({ displayName: "Renamed", maxConcurrentSessions: null })
    }))

  it.effect("PATCH password: the new one signs in, the old one no longer does, and existing sessions end", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const { mitra, refreshToken } = yield* loginAsMitra()
      const response = yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json: { password: "a brand new secret" } })
      expect(response.status).toBe(200)
      expect((yield* mitraLogin(mitra.phone)).status).toBe(401)
      expect((yield* mitraLogin(mitra.phone, "a brand new secret")).status).toBe(200)
      expect((yield* post("/api/auth/refresh", { json: { refreshToken } })).status).toBe(401)
    }))

  it.effect("PATCH bodies that do not decode → 400 and the mitra is unchanged", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const mitra = yield* createMitra({ password: fixturePassword })
      const before = yield* mitraRow(mitra.id)
      for (
        const json of [
          { isActive: "false" },
          { isActive: 0 },
          { maxConcurrentSessions: 0 },
          { maxConcurrentSessions: 101 },
          { password: "" },
          { displayName: "" },
          { displayName: "ok", password: "short" }, // one bad field rejects the whole patch
          [],
          null
        ]
      ) {
        const response = yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json })
        expect(response.status, JSON.stringify(json)).toBe(400)
      }
      expect(yield* mitraRow(mitra.id)).toEqual(before)
    }))

  it.effect("PATCH an unknown mitra → 404, nothing written", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      for (const json of [{ isActive: false }, { displayName: "Ghost" }]) {
        const response = yield* patch(`/internal/mitras/${randomUUID()}`, { token: admin.accessToken, json })
        expect(response).toMatchObject({ status: 404, body: { _tag: "MitraNotFound" } })
      }
    }))

  it.effect("PATCH isActive false: in one go the flag flips, every session is revoked, the mitra goes offline, and it is audited", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const admin = yield* loginAsCcUser()
      const { mitra, accessToken: _access, refreshToken } = yield* loginAsMitra({ isOnline: true })
      const second = yield* mitraLogin(mitra.phone) // a second device
      expect(second.status).toBe(200)

      const response = yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json: { isActive: false } })
      expect(response.status).toBe(200)
      expect((response.body as { mitra: MitraBody }).mitra).toMatchObject({ isActive: false, isOnline: false })

      const sessions = yield* sql<{ revokedReason: string | null }>`
        SELECT revoked_reason FROM auth_sessions WHERE subject_kind = 'mitra' AND subject_id = ${mitra.id}
      `
      expect(sessions.map((s) => s.revokedReason)).toEqual(["mitra_deactivated", "mitra_deactivated"])
      const [status] = yield* sql<{ isOnline: boolean }>`SELECT is_online FROM mitra_online_status WHERE mitra_id = ${mitra.id}`
      expect(status).toEqual({ isOnline: false })
      const events = yield* sql<{ event: string; reason: string; actor: string }>`
        SELECT event, reason, actor FROM mitra_status_events WHERE mitra_id = ${mitra.id} ORDER BY id
      `
      expect(events).toEqual([
        { event: "deactivated", reason: "admin", actor: admin.user.id },
        { event: "offline", reason: "deactivated", actor: admin.user.id }
      ])
      expect((yield* post("/api/auth/refresh", { json: { refreshToken } })).status).toBe(401)
      expect((yield* mitraLogin(mitra.phone)).status).toBe(403)

      // Deactivating again changes nothing and audits nothing.
      expect((yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json: { isActive: false } })).status)
        .toBe(200)
      expect(yield* sql`SELECT 1 FROM mitra_status_events WHERE mitra_id = ${mitra.id}`).toHaveLength(2)
    }))

  it.effect("PATCH isActive false on an offline mitra writes no offline event; reactivation is audited and signs in again", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const admin = yield* loginAsCcUser()
      const mitra = yield* createMitra({ password: fixturePassword })
      yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json: { isActive: false } })
      const reactivated = yield* patch(`/internal/mitras/${mitra.id}`, { token: admin.accessToken, json: { isActive: true } })
      expect((reactivated.body as { mitra: MitraBody }).mitra.isActive).toBe(true)
      const events = yield* sql<{ event: string; reason: string }>`
        SELECT event, reason FROM mitra_status_events WHERE mitra_id = ${mitra.id} ORDER BY id
      `
      expect(events).toEqual([{ event: "deactivated", reason: "admin" }, { event: "reactivated", reason: "admin" }])
      expect((yield* mitraLogin(mitra.phone)).status).toBe(200)
    }))
})

describe("GET /internal/mitras", () => {
  it.scopedLive("filters by online and active, newest first", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const onlineActive = yield* createMitra({ isOnline: true })
      const offlineActive = yield* createMitra()
      const offlineInactive = yield* createMitra({ isActive: false })
      const ids = (page: unknown) => (page as Page).items.map((m) => m.id)
      const list = (query: string) => get(`/internal/mitras${query}`, { token: admin.accessToken }).pipe(Effect.map((r) => r.body))

      expect(ids(yield* list(""))).toEqual([offlineInactive.id, offlineActive.id, onlineActive.id])
      expect(ids(yield* list("?online=true"))).toEqual([onlineActive.id])
      expect(ids(yield* list("?online=false"))).toEqual([offlineInactive.id, offlineActive.id])
      expect(ids(yield* list("?active=false"))).toEqual([offlineInactive.id])
      expect(ids(yield* list("?active=true&online=false"))).toEqual([offlineActive.id])
      expect(ids(yield* list("?active=false&online=true"))).toEqual([])
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("pages with an opaque cursor: every mitra exactly once, in order, even with equal creation times", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const admin = yield* loginAsCcUser()
      const created = yield* Effect.forEach(Array.from({ length: 7 }), () => createMitra())
      // Four share one creation instant (a bulk import): only the id breaks the tie.
      yield* sql`UPDATE mitras SET created_at = '2026-03-01T10:00:00.123456Z' WHERE id IN ${sql.in(created.slice(0, 4).map((m) => m.id))}`

      const seen: Array<string> = []
      let cursor: string | null = null
      let pages = 0
      do {
        const query: string = cursor === null ? "?limit=3" : `?limit=3&cursor=${encodeURIComponent(cursor)}`
        const response = yield* get(`/internal/mitras${query}`, { token: admin.accessToken })
        expect(response.status).toBe(200)
        const page = response.body as Page
        expect(page.items.length).toBeLessThanOrEqual(3)
        seen.push(...page.items.map((m) => m.id))
        cursor = page.nextCursor
        pages++
      } while (cursor !== null && pages < 10)

      expect(pages).toBe(3)
      expect(new Set(seen).size).toBe(7)
      expect([...seen].sort()).toEqual(created.map((m) => m.id).sort())
      const [all] = [(yield* get("/internal/mitras?limit=100", { token: admin.accessToken })).body as Page]
      expect(all.items.map((m) => m.id)).toEqual(seen)
      expect(all.nextCursor).toBeNull()
    }).pipe(Effect.provide(TestApp())))

  it.scopedLive("bad query parameters → 400 (cursor, limit, booleans)", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const forged = Buffer.from(JSON.stringify(["1; DROP TABLE mitras", randomUUID()])).toString("base64url")
      for (
        const query of [
          "?cursor=garbage",
          `?cursor=${forged}`,
          `?cursor=${Buffer.from("[]").toString("base64url")}`,
          "?limit=0",
          "?limit=101",
          "?limit=abc",
          "?limit=2.5",
          "?online=yes",
          "?active=1"
        ]
      ) {
        const response = yield* get(`/internal/mitras${query}`, { token: admin.accessToken })
        expect(response.status, query).toBe(400)
        expect(response.body).toMatchObject({ _tag: "HttpApiDecodeError" })
      }
    }).pipe(Effect.provide(TestApp())))
})
