/**
 * A control-center user may only grant what it holds: a new role's permissions, the role given to
 * a new or existing user, and (as a way to become that user) another user's password must stay
 * within the actor's own permissions. Escalations are 403 `Forbidden` and change nothing. (Any
 * change to a more powerful user is refused as well: test/controlCenter/lockout.test.ts.)
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it as plainIt } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { missingGrants } from "../../src/controlCenter/Grants.js"
import { allPermissions, createCcUser, fixturePassword, loginAsCcUser } from "../support/fixtures.js"
import { patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

/** Roles and control-center users as stored: what an escalation attempt could have changed. */
const snapshot = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ state: unknown }>`
    SELECT json_build_object(
      'roles', (SELECT json_agg(r ORDER BY id) FROM roles r),
      'users', (SELECT json_agg(u ORDER BY id) FROM control_center_users u),
      'sessions', (SELECT json_agg(s ORDER BY id) FROM auth_sessions s)
    ) AS state
  `.pipe(Effect.map(([row]) => row!.state), Effect.orDie))

const roleIdOf = (userId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ roleId: string }>`SELECT role_id FROM control_center_users WHERE id = ${userId}`.pipe(
      Effect.map(([row]) => row!.roleId),
      Effect.orDie
    ))

const forbidden = (response: { readonly status: number; readonly body: unknown }, missing: string) => {
  expect(response.status).toBe(403)
  expect(response.body).toMatchObject({ _tag: "Forbidden" })
  expect((response.body as { message: string }).message).toContain("Cannot grant role")
  expect((response.body as { message: string }).message).toContain(missing)
}

const newUser = (roleId: string) => ({
  email: `granted-${randomUUID().slice(0, 8)}@example.com`,
  displayName: "Granted",
  password: fixturePassword,
  roleId
})

describe("missingGrants", () => {
  plainIt("lists every resource:action of the wanted set that is not held", () => {
    const held = { mitra: ["read", "update"], config: ["read"] }
    expect(missingGrants(held, {})).toEqual([])
    expect(missingGrants(held, { mitra: ["read"] })).toEqual([])
    expect(missingGrants(held, { mitra: ["update", "read"], config: ["read"] })).toEqual([])
    expect(missingGrants(held, { mitra: ["read", "delete"], roles: ["create"] })).toEqual(["mitra:delete", "roles:create"])
    expect(missingGrants({}, { config: ["read"] })).toEqual(["config:read"])
    // A key that merely looks like an object property is not a grant.
    expect(missingGrants(held, { constructor: ["read"] })).toEqual(["constructor:read"])
  })
})

layer(TestApp(), { excludeTestServices: true })("granting roles and permissions", (it) => {
  it.effect("PATCH own roleId to a more powerful role (e.g. super admin) → 403, role unchanged", () =>
    Effect.gen(function*() {
      const actor = yield* loginAsCcUser({ permissions: { control_center_users: ["read", "update"] } })
      const superAdmin = yield* createCcUser() // a role holding every permission
      const other = yield* createCcUser({ permissions: {} })
      const before = yield* snapshot

      const self = yield* patch(`/internal/cc-users/${actor.user.id}`, {
        token: actor.accessToken,
        json: { roleId: superAdmin.roleId, displayName: "Escalated" }
      })
      forbidden(self, "mitra:create")
      const someoneElse = yield* patch(`/internal/cc-users/${other.id}`, {
        token: actor.accessToken,
        json: { roleId: superAdmin.roleId }
      })
      forbidden(someoneElse, "roles:create")
      expect(yield* snapshot).toEqual(before)
      expect(yield* roleIdOf(actor.user.id)).toBe(actor.user.roleId)
    }))

  it.effect("POST /internal/roles with permissions the actor lacks → 403, no role; a subset → 201", () =>
    Effect.gen(function*() {
      const actor = yield* loginAsCcUser({ permissions: { roles: ["create", "read"], mitra: ["read"] } })
      const before = yield* snapshot
      for (
        const permissions of [
          allPermissions,
          { mitra: ["read", "update"] },
          { control_center_users: ["update"] },
          { roles: ["delete"] }
        ]
      ) {
        const response = yield* post("/internal/roles", { token: actor.accessToken, json: { name: `esc-${randomUUID()}`, permissions } })
        expect(response.status, JSON.stringify(permissions)).toBe(403)
        expect(response.body).toMatchObject({ _tag: "Forbidden" })
      }
      expect(yield* snapshot).toEqual(before)

      for (const permissions of [{ mitra: ["read"] }, { roles: ["read", "create"], mitra: ["read"] }, {}]) {
        const response = yield* post("/internal/roles", { token: actor.accessToken, json: { name: `ok-${randomUUID()}`, permissions } })
        expect(response.status, JSON.stringify(permissions)).toBe(201)
        expect(response.body).toMatchObject({ role: { permissions } })
      }
    }))

  it.effect("POST /internal/cc-users with a role beyond the actor's permissions → 403, no user; same for a new role", () =>
    Effect.gen(function*() {
      const actor = yield* loginAsCcUser({ permissions: { roles: ["create"], control_center_users: ["create", "update"] } })
      // A role someone more powerful made: holds config, which the actor does not.
      const powerful = yield* createCcUser({ permissions: { config: ["read", "update"], control_center_users: ["create"] } })
      const before = yield* snapshot
      const created = yield* post("/internal/roles", {
        token: actor.accessToken,
        json: { name: `esc-${randomUUID()}`, permissions: { config: ["update"] } }
      })
      forbidden(created, "config:update")
      forbidden(yield* post("/internal/cc-users", { token: actor.accessToken, json: newUser(powerful.roleId) }), "config:read")
      expect(yield* snapshot).toEqual(before)
    }))

  it.effect("creating a user with, or moving a user to, a role within one's permissions still works", () =>
    Effect.gen(function*() {
      const actor = yield* loginAsCcUser({ permissions: { control_center_users: ["create", "update"], mitra: ["read"] } })
      const lesser = yield* createCcUser({ permissions: { mitra: ["read"] } })
      const same = yield* createCcUser({ permissions: { control_center_users: ["create", "update"], mitra: ["read"] } })

      const created = yield* post("/internal/cc-users", { token: actor.accessToken, json: newUser(lesser.roleId) })
      expect(created.status).toBe(201)
      const createdId = (created.body as { user: { id: string } }).user.id
      const moved = yield* patch(`/internal/cc-users/${createdId}`, { token: actor.accessToken, json: { roleId: same.roleId } })
      expect(moved.status).toBe(200)
      expect(yield* roleIdOf(createdId)).toBe(same.roleId)
      // Demoting oneself is granting less than one holds: allowed.
      const demoted = yield* patch(`/internal/cc-users/${actor.user.id}`, { token: actor.accessToken, json: { roleId: lesser.roleId } })
      expect(demoted.status).toBe(200)
      expect(yield* roleIdOf(actor.user.id)).toBe(lesser.roleId)
    }))

  it.effect("setting the password of a more powerful user → 403 (its old password still works); of a lesser user → 200", () =>
    Effect.gen(function*() {
      const actor = yield* loginAsCcUser({ permissions: { control_center_users: ["update"] } })
      const powerful = yield* createCcUser({ password: fixturePassword })
      const before = yield* snapshot
      const takeover = yield* patch(`/internal/cc-users/${powerful.id}`, {
        token: actor.accessToken,
        json: { password: "taken-over-password" }
      })
      expect(takeover).toMatchObject({ status: 403, body: { _tag: "Forbidden" } })
      expect((takeover.body as { message: string }).message).toContain("Cannot change user")
      expect((takeover.body as { message: string }).message).toContain("mitra:read")
      expect(yield* snapshot).toEqual(before)
      expect((yield* post("/api/auth/cc/login", { json: { email: powerful.email, password: fixturePassword } })).status).toBe(200)

      const lesser = yield* createCcUser({ permissions: { control_center_users: ["update"] } })
      const reset = yield* patch(`/internal/cc-users/${lesser.id}`, { token: actor.accessToken, json: { password: "a-new-password" } })
      expect(reset.status).toBe(200)
      expect((yield* post("/api/auth/cc/login", { json: { email: lesser.email, password: "a-new-password" } })).status).toBe(200)
      // Renaming or deactivating a more powerful user is refused too (test/controlCenter/lockout.test.ts).
      expect((yield* patch(`/internal/cc-users/${powerful.id}`, { token: actor.accessToken, json: { displayName: "Renamed" } })).status)
        .toBe(403)
    }))

  it.effect("a super admin (every permission) can still create any role and give any role", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      const created = yield* post("/internal/roles", { token: admin.accessToken, json: { name: `all-${randomUUID()}`, permissions: allPermissions } })
      expect(created.status).toBe(201)
      const roleId = (created.body as { role: { id: string } }).role.id

      const user = yield* post("/internal/cc-users", { token: admin.accessToken, json: newUser(roleId) })
      expect(user.status).toBe(201)
      const other = yield* createCcUser({ permissions: {} })
      expect((yield* patch(`/internal/cc-users/${other.id}`, { token: admin.accessToken, json: { roleId, password: "admin-set-password" } })).status)
        .toBe(200)
      expect(yield* roleIdOf(other.id)).toBe(roleId)
    }))
})
