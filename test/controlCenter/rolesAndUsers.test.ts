/** /internal/roles and /internal/cc-users through the HTTP API on a real Postgres. */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createCcUser, fixturePassword, loginAsCcUser } from "../support/fixtures.js"
import { get, patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

interface RoleBody {
  readonly id: string
  readonly name: string
  readonly permissions: Record<string, ReadonlyArray<string>>
  readonly createdAt: string
}

interface UserBody {
  readonly id: string
  readonly email: string
  readonly displayName: string
  readonly roleId: string
  readonly roleName: string
  readonly isActive: boolean
}

const count = (table: "roles" | "control_center_users") =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(table)}`.pipe(Effect.map(([row]) => row!.n), Effect.orDie))

const ccLogin = (email: string, password = fixturePassword) => post("/api/auth/cc/login", { json: { email, password } })

const createRole = (token: string, name: string, permissions: Record<string, ReadonlyArray<string>>) =>
  post("/internal/roles", { token, json: { name, permissions } }).pipe(
    Effect.map((response) => {
      expect(response.status).toBe(201)
      return (response.body as { role: RoleBody }).role
    })
  )

layer(TestApp(), { excludeTestServices: true })("roles and control-center users", (it) => {
  it.effect("POST /internal/roles creates a role (201) that GET lists; a duplicate name → 409", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const role = yield* createRole(admin.accessToken, "support-agent", { mitra: ["read"], config: ["read"] })
      expect(role).toMatchObject({ name: "support-agent", permissions: { mitra: ["read"], config: ["read"] } })

      const list = yield* get("/internal/roles", { token: admin.accessToken })
      expect(list.status).toBe(200)
      expect((list.body as { items: ReadonlyArray<RoleBody> }).items).toContainEqual(role)

      const before = yield* count("roles")
      const duplicate = yield* post("/internal/roles", { token: admin.accessToken, json: { name: "support-agent", permissions: {} } })
      expect(duplicate).toMatchObject({ status: 409, body: { _tag: "DuplicateRoleName" } })
      expect(yield* count("roles")).toBe(before)
    }))

  it.effect("POST /internal/roles refuses permissions outside the catalog or badly shaped (400, no row)", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const before = yield* count("roles")
      for (
        const permissions of [
          { mitras: ["read"] }, // unknown resource
          { mitra: ["fly"] }, // unknown action
          { config: ["create"] }, // not an action of config
          { mitra: [] },
          { mitra: ["read", "read"] },
          { mitra: "read" },
          ["mitra:read"],
          null
        ]
      ) {
        const response = yield* post("/internal/roles", { token: admin.accessToken, json: { name: `r-${randomUUID()}`, permissions } })
        expect(response.status, JSON.stringify(permissions)).toBe(400)
        expect(response.body).toMatchObject({ _tag: "HttpApiDecodeError" })
      }
      for (const name of ["", "   ", "x".repeat(65), "-leading-dash", 42]) {
        const response = yield* post("/internal/roles", { token: admin.accessToken, json: { name, permissions: {} } })
        expect(response.status, JSON.stringify(name)).toBe(400)
      }
      expect(yield* count("roles")).toBe(before)
    }))

  it.effect("POST /internal/cc-users creates a user who can sign in with the given role's permissions", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const role = yield* createRole(admin.accessToken, `viewer-${randomUUID()}`, { config: ["read"] })
      const email = `viewer-${randomUUID().slice(0, 8)}@example.com`
      const response = yield* post("/internal/cc-users", {
        token: admin.accessToken,
        json: { email, displayName: "Viewer", password: "viewer-password", roleId: role.id }
      })
      expect(response.status).toBe(201)
      const { user } = response.body as { user: UserBody }
      expect(user).toMatchObject({ email, displayName: "Viewer", roleId: role.id, roleName: role.name, isActive: true })

      const login = yield* ccLogin(email.toUpperCase(), "viewer-password")
      expect(login.status).toBe(200)
      const token = (login.body as { accessToken: string }).accessToken
      expect((yield* get("/internal/config", { token })).status).toBe(200)
      expect((yield* get("/internal/mitras", { token })).status).toBe(403)

      const list = yield* get("/internal/cc-users", { token: admin.accessToken })
      expect((list.body as { items: ReadonlyArray<UserBody> }).items.map((u) => u.id)).toContain(user.id)
    }))

  it.effect("POST /internal/cc-users: the same email in another case → 409; an unknown role → 404; bad bodies → 400", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const existing = yield* createCcUser({ email: `Taken-${randomUUID().slice(0, 8)}@Example.com` })
      const before = yield* count("control_center_users")
      const valid = { email: existing.email.toLowerCase(), displayName: "Dup", password: fixturePassword, roleId: existing.roleId }

      const duplicate = yield* post("/internal/cc-users", { token: admin.accessToken, json: valid })
      expect(duplicate).toMatchObject({ status: 409, body: { _tag: "DuplicateEmail" } })
      const unknownRole = yield* post("/internal/cc-users", {
        token: admin.accessToken,
        json: { ...valid, email: "fresh@example.com", roleId: randomUUID() }
      })
      expect(unknownRole).toMatchObject({ status: 404, body: { _tag: "RoleNotFound" } })
      for (
        const json of [
          { ...valid, email: "not-an-email" },
          { ...valid, password: "" },
          { ...valid, password: "short" },
          { ...valid, roleId: "not-a-uuid" },
          { ...valid, displayName: 7 },
          { email: valid.email }
        ]
      ) {
        const response = yield* post("/internal/cc-users", { token: admin.accessToken, json })
        expect(response.status, JSON.stringify(json)).toBe(400)
      }
      expect(yield* count("control_center_users")).toBe(before)
    }))

  it.effect("PATCH /internal/cc-users: rename, change role, new password (old sessions end)", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const target = yield* loginAsCcUser({ permissions: { config: ["read"] } })
      const role = yield* createRole(admin.accessToken, `mitra-viewer-${randomUUID()}`, { mitra: ["read"] })

      const response = yield* patch(`/internal/cc-users/${target.user.id}`, {
        token: admin.accessToken,
        json: { displayName: "New Name", roleId: role.id }
      })
      expect(response.status).toBe(200)
      expect((response.body as { user: UserBody }).user).toMatchObject({ displayName: "New Name", roleId: role.id, roleName: role.name })
      // Permissions are read per request: the existing access token has the new role's rights at once.
      expect((yield* get("/internal/mitras", { token: target.accessToken })).status).toBe(200)
      expect((yield* get("/internal/config", { token: target.accessToken })).status).toBe(403)

      yield* patch(`/internal/cc-users/${target.user.id}`, { token: admin.accessToken, json: { password: "another-password" } })
      expect((yield* post("/api/auth/refresh", { json: { refreshToken: target.refreshToken } })).status).toBe(401)
      expect((yield* ccLogin(target.user.email)).status).toBe(401)
      expect((yield* ccLogin(target.user.email, "another-password")).status).toBe(200)
    }))

  it.effect("PATCH /internal/cc-users isActive false: sessions revoked, access token refused at once, login 403", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const target = yield* loginAsCcUser()
      const response = yield* patch(`/internal/cc-users/${target.user.id}`, { token: admin.accessToken, json: { isActive: false } })
      expect((response.body as { user: UserBody }).user.isActive).toBe(false)
      expect((yield* get("/internal/config", { token: target.accessToken })).status).toBe(403)
      expect((yield* post("/api/auth/refresh", { json: { refreshToken: target.refreshToken } })).status).toBe(401)
      expect((yield* ccLogin(target.user.email)).status).toBe(403)
    }))

  it.effect("PATCH /internal/cc-users: deactivating oneself → 409; unknown user → 404; unknown role → 404; bad body → 400", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const self = yield* patch(`/internal/cc-users/${admin.user.id}`, { token: admin.accessToken, json: { isActive: false } })
      expect(self).toMatchObject({ status: 409, body: { _tag: "CannotDeactivateSelf" } })
      // The same id in uppercase is the same user.
      const shouted = yield* patch(`/internal/cc-users/${admin.user.id.toUpperCase()}`, { token: admin.accessToken, json: { isActive: false } })
      expect(shouted).toMatchObject({ status: 409, body: { _tag: "CannotDeactivateSelf" } })
      expect((yield* get("/internal/config", { token: admin.accessToken })).status).toBe(200)

      const missing = yield* patch(`/internal/cc-users/${randomUUID()}`, { token: admin.accessToken, json: { displayName: "X" } })
      expect(missing).toMatchObject({ status: 404, body: { _tag: "CcUserNotFound" } })
      const other = yield* createCcUser()
      const unknownRole = yield* patch(`/internal/cc-users/${other.id}`, { token: admin.accessToken, json: { roleId: randomUUID() } })
      expect(unknownRole).toMatchObject({ status: 404, body: { _tag: "RoleNotFound" } })
      for (const json of [{ isActive: "no" }, { password: "short" }, { roleId: "x" }, { displayName: "" }]) {
        const response = yield* patch(`/internal/cc-users/${other.id}`, { token: admin.accessToken, json })
        expect(response.status, JSON.stringify(json)).toBe(400)
      }
      expect((yield* patch("/internal/cc-users/not-a-uuid", { token: admin.accessToken, json: {} })).status).toBe(400)
    }))
})
