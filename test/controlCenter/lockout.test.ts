/**
 * Nobody can lock the control center out. A user with `control_center_users:update` may only change
 * users whose role is within its own permissions (403 otherwise, for every field); the last active
 * super-admin (a role granting the whole catalog, e.g. the bootstrap `super_admin`) can be neither
 * demoted nor deactivated (409 `LastSuperAdmin`), also when two super-admins demote or deactivate
 * each other at the same moment; and an id spelled in uppercase is the same id for every check.
 *
 * Each test runs its own app and database: "the last super-admin" depends on every user there is.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { allPermissions, createCcUser, fixturePassword, loginAsCcUser } from "../support/fixtures.js"
import { get, type JsonResponse, patch, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

const adminEnv = { BOOTSTRAP_ADMIN_EMAIL: "root@example.com", BOOTSTRAP_ADMIN_PASSWORD: "a-long-bootstrap-password" }

/** The app with the bootstrap super-admin created at start-up, as in production. */
const BootstrappedApp = () => TestApp({ env: adminEnv })

const signIn = (email: string, password: string) =>
  Effect.gen(function*() {
    const response = yield* post("/api/auth/cc/login", { json: { email, password } })
    expect(response.status, `login of ${email}`).toBe(200)
    return (response.body as { accessToken: string }).accessToken
  })

/** The bootstrap admin (role `super_admin`), signed in. */
const bootstrapAdmin = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ id: string; roleId: string; roleName: string }>`
    SELECT u.id, u.role_id, r.name AS role_name FROM control_center_users u JOIN roles r ON r.id = u.role_id
    WHERE lower(u.email) = ${adminEnv.BOOTSTRAP_ADMIN_EMAIL}
  `.pipe(Effect.orDie)
  expect(row?.roleName).toBe("super_admin")
  return { ...row!, accessToken: yield* signIn(adminEnv.BOOTSTRAP_ADMIN_EMAIL, adminEnv.BOOTSTRAP_ADMIN_PASSWORD) }
})

/** Users, roles and sessions as stored: what a refused change must leave alone. */
const snapshot = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ state: unknown }>`
    SELECT json_build_object(
      'roles', (SELECT json_agg(r ORDER BY id) FROM roles r),
      'users', (SELECT json_agg(u ORDER BY id) FROM control_center_users u),
      'sessions', (SELECT json_agg(s ORDER BY id) FROM auth_sessions s)
    ) AS state
  `.pipe(Effect.map(([row]) => row!.state), Effect.orDie))

/** Ids of the active users whose role grants every permission of the catalog. */
const activeSuperAdmins = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ id: string }>`
    SELECT u.id FROM control_center_users u JOIN roles r ON r.id = u.role_id
    WHERE u.is_active AND r.permissions @> ${JSON.stringify(allPermissions)}::jsonb
    ORDER BY u.id
  `.pipe(Effect.map((rows) => rows.map((row) => row.id)), Effect.orDie))

const expectStatus = (response: JsonResponse, status: number, tag: string, what: string) => {
  expect(response.status, `${what}: ${response.text}`).toBe(status)
  expect(response.body, what).toMatchObject({ _tag: tag })
}

/** A role granting `permissions`, made by a user that holds them. */
const roleWith = (permissions: Record<string, ReadonlyArray<string>>) =>
  Effect.map(createCcUser({ permissions }), (user) => user.roleId)

/** The ids in both spellings: the canonical one and an uppercase one. */
const spellings = (id: string) => [id, id.toUpperCase()]

describe("control-center lockout protection", () => {
  it.effect("a lesser admin (control_center_users:update, not every permission) cannot change the super-admin at all: 403, nothing written", () =>
    Effect.gen(function*() {
      const root = yield* bootstrapAdmin
      const lesser = yield* loginAsCcUser({ permissions: { control_center_users: ["read", "update"], mitra: ["read"] } })
      const viewerRole = yield* roleWith({ mitra: ["read"] })
      const before = yield* snapshot
      for (const path of spellings(root.id)) {
        for (
          const json of [
            { roleId: viewerRole }, // demote
            { isActive: false }, // lock out
            { roleId: viewerRole, isActive: false },
            { password: "taken-over-password" }, // take over
            { displayName: "Not the admin" },
            { isActive: true, displayName: "Still the admin" },
            {}
          ]
        ) {
          const response = yield* patch(`/internal/cc-users/${path}`, { token: lesser.accessToken, json })
          expectStatus(response, 403, "Forbidden", `${path} ${JSON.stringify(json)}`)
          expect((response.body as { message: string }).message).toContain("Cannot change user")
        }
      }
      expect(yield* snapshot).toEqual(before)
      // Still the super-admin, with its own password.
      const token = yield* signIn(adminEnv.BOOTSTRAP_ADMIN_EMAIL, adminEnv.BOOTSTRAP_ADMIN_PASSWORD)
      expect((yield* get("/internal/roles", { token })).status).toBe(200)
      expect(yield* activeSuperAdmins).toEqual([root.id])
    }).pipe(Effect.provide(BootstrappedApp())))

  it.effect("the subset rule applies to every user, not only super-admins; users within one's permissions stay editable", () =>
    Effect.gen(function*() {
      const actor = yield* loginAsCcUser({ permissions: { control_center_users: ["read", "update"], mitra: ["read", "update"] } })
      const beyond = yield* createCcUser({ permissions: { mitra: ["read"], config: ["read"] } }) // config: the actor has none
      const within = yield* createCcUser({ permissions: { mitra: ["read", "update"] } })
      const equal = yield* createCcUser({ permissions: actor.user.permissions })
      const before = yield* snapshot
      for (const json of [{ displayName: "Renamed" }, { isActive: false }, { password: "another-password" }]) {
        for (const path of spellings(beyond.id)) {
          const response = yield* patch(`/internal/cc-users/${path}`, { token: actor.accessToken, json })
          expectStatus(response, 403, "Forbidden", `${path} ${JSON.stringify(json)}`)
          expect((response.body as { message: string }).message).toContain("config:read")
        }
      }
      expect(yield* snapshot).toEqual(before)

      for (const target of [within, equal]) {
        const path = target.id.toUpperCase()
        const renamed = yield* patch(`/internal/cc-users/${path}`, { token: actor.accessToken, json: { displayName: "Renamed" } })
        expect(renamed.status, renamed.text).toBe(200)
        expect(renamed.body).toMatchObject({ user: { id: target.id, displayName: "Renamed" } })
        const deactivated = yield* patch(`/internal/cc-users/${path}`, { token: actor.accessToken, json: { isActive: false } })
        expect(deactivated.body).toMatchObject({ user: { id: target.id, isActive: false } })
      }
    }).pipe(Effect.provide(TestApp())))

  it.effect("the last super-admin can neither demote nor deactivate itself, however its id is spelled; moving to another all-permission role is fine", () =>
    Effect.gen(function*() {
      const root = yield* bootstrapAdmin
      const viewerRole = yield* roleWith({ mitra: ["read"] })
      // Almost everything: one action short of the catalog is not a super-admin.
      const almostRole = yield* roleWith({ ...allPermissions, roles: ["create", "read", "update"] })
      const before = yield* snapshot
      for (const path of spellings(root.id)) {
        for (const roleId of [viewerRole, almostRole]) {
          const demoted = yield* patch(`/internal/cc-users/${path}`, { token: root.accessToken, json: { roleId } })
          expectStatus(demoted, 409, "LastSuperAdmin", `demote ${path}`)
          expect(demoted.body).toMatchObject({ userId: root.id })
        }
        const deactivated = yield* patch(`/internal/cc-users/${path}`, { token: root.accessToken, json: { isActive: false } })
        expectStatus(deactivated, 409, "CannotDeactivateSelf", `deactivate ${path}`)
        const both = yield* patch(`/internal/cc-users/${path}`, { token: root.accessToken, json: { isActive: false, roleId: viewerRole } })
        expect(both.status, `both ${path}`).toBe(409)
      }
      expect(yield* snapshot).toEqual(before)

      const backupRole = yield* post("/internal/roles", { token: root.accessToken, json: { name: "backup-admins", permissions: allPermissions } })
      const backupRoleId = (backupRole.body as { role: { id: string } }).role.id
      const moved = yield* patch(`/internal/cc-users/${root.id.toUpperCase()}`, { token: root.accessToken, json: { roleId: backupRoleId } })
      expect(moved.body).toMatchObject({ user: { id: root.id, roleId: backupRoleId, isActive: true } })
      expect(yield* activeSuperAdmins).toEqual([root.id])
    }).pipe(Effect.provide(BootstrappedApp())))

  it.effect("a super-admin can be demoted or deactivated while another remains, until it is the last", () =>
    Effect.gen(function*() {
      const root = yield* bootstrapAdmin
      const viewerRole = yield* roleWith({ mitra: ["read"] })
      const second = yield* createCcUser({ password: fixturePassword }) // its own role with every permission
      const edit = (id: string, json: unknown, token = root.accessToken) => patch(`/internal/cc-users/${id}`, { token, json })

      expect((yield* edit(second.id, { roleId: viewerRole })).status).toBe(200)
      expect(yield* activeSuperAdmins).toEqual([root.id])
      expectStatus(yield* edit(root.id, { roleId: viewerRole }), 409, "LastSuperAdmin", "root alone")

      expect((yield* edit(second.id, { roleId: second.roleId })).status).toBe(200)
      expect((yield* edit(second.id.toUpperCase(), { isActive: false })).status).toBe(200)
      expect(yield* activeSuperAdmins).toEqual([root.id])
      expectStatus(yield* edit(root.id, { roleId: viewerRole }), 409, "LastSuperAdmin", "second inactive")

      expect((yield* edit(second.id, { isActive: true })).status).toBe(200)
      expect((yield* edit(root.id, { roleId: viewerRole })).status).toBe(200)
      expect(yield* activeSuperAdmins).toEqual([second.id])
      // Now the second one is the last: it cannot demote itself either.
      const secondToken = yield* signIn(second.email, fixturePassword)
      expectStatus(yield* edit(second.id, { roleId: viewerRole }, secondToken), 409, "LastSuperAdmin", "second alone")
    }).pipe(Effect.provide(BootstrappedApp())))
})

/**
 * Holds both users' rows locked while the two requests start, so both have passed authentication
 * and wait in Postgres before either can write: the tightest race two requests can run. Waits for
 * the deterministic signal (two backends waiting on a lock), then lets them go.
 */
const raceWhileLocked = <R>(ids: ReadonlyArray<string>, requests: ReadonlyArray<Effect.Effect<JsonResponse, never, R>>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const racing = yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`SELECT id FROM control_center_users WHERE id IN ${sql.in(ids)} FOR UPDATE`
      const racing = yield* Effect.fork(Effect.all(requests, { concurrency: "unbounded" }))
      const deadline = Date.now() + 20_000
      for (;;) {
        // pg_stat_activity is read once per transaction unless its snapshot is cleared.
        yield* sql`SELECT pg_stat_clear_snapshot()`
        const [waiting] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
        `
        if (waiting!.n >= requests.length) break
        if (Date.now() > deadline) return yield* Effect.dieMessage("the racing requests never reached Postgres")
        yield* Effect.sleep("5 millis")
      }
      return racing
    })).pipe(Effect.orDie)
    return yield* Fiber.join(racing)
  })

describe("control-center lockout protection under concurrency", () => {
  for (const [what, change] of [["deactivate", { isActive: false }], ["demote", { roleId: "viewer" }]] as const) {
    it.live(`the last two super-admins ${what} each other at once: exactly one succeeds, one super-admin remains`, () =>
      Effect.gen(function*() {
        const viewerRole = yield* roleWith({ mitra: ["read"] })
        const a = yield* loginAsCcUser()
        const b = yield* loginAsCcUser()
        const json = "roleId" in change ? { roleId: viewerRole } : change
        const [aOnB, bOnA] = yield* raceWhileLocked([a.user.id, b.user.id], [
          patch(`/internal/cc-users/${b.user.id}`, { token: a.accessToken, json }),
          patch(`/internal/cc-users/${a.user.id.toUpperCase()}`, { token: b.accessToken, json })
        ])
        const statuses = [aOnB!.status, bOnA!.status].sort()
        expect(statuses, `${aOnB!.text} / ${bOnA!.text}`).toEqual([200, 409])
        expect([aOnB!.body, bOnA!.body]).toContainEqual(expect.objectContaining({ _tag: "LastSuperAdmin" }))
        expect(yield* activeSuperAdmins).toHaveLength(1)
      }).pipe(Effect.provide(TestApp())))
  }
})
