/**
 * Control-center users: list, create, edit. Deactivating a user or changing its password ends its
 * refresh sessions in the same transaction; its access tokens stop working at once because
 * `CcUserAuthentication` reads `is_active` on every request.
 *
 * Giving a user a role (create, or a new `roleId`) requires the actor to hold every permission of
 * that role; changing a user at all (role, password, name, activation) requires the actor to hold
 * every permission of the user's current role, else a lesser admin could take over (a new
 * password) or lock out (demote, deactivate) a more powerful one: 403, nothing written.
 *
 * The last active super-admin (a user whose role grants the whole permission catalog) can be
 * neither demoted nor deactivated (409 `LastSuperAdmin`): without one, nobody could grant the
 * catalog back and recovery would need SQL.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { hashPassword } from "../auth/Passwords.js"
import type { Permissions } from "../auth/Principals.js"
import { RefreshSessions } from "../auth/RefreshSessions.js"
import { orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { allPermissions } from "../auth/PermissionCatalog.js"
import { CannotDeactivateSelf, CcUserNotFound, DuplicateEmail, LastSuperAdmin, RoleNotFound } from "./ControlCenterErrors.js"
import { grantsEverything, requireCanGrant, requireCanManage } from "./Grants.js"

export const CcUser = Schema.Struct({
  id: Schema.UUID,
  email: Schema.String,
  displayName: Schema.String,
  roleId: Schema.UUID,
  roleName: Schema.String,
  isActive: Schema.Boolean,
  createdAt: Schema.Date
}).annotations({ identifier: "CcUser" })
export type CcUser = typeof CcUser.Type

const CcUserRow = Schema.Struct({ ...CcUser.fields, createdAt: Schema.DateFromSelf })
const decodeRows = Schema.decodeUnknown(Schema.Array(CcUserRow))
const StoredPermissions = Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) })
const decodePermissions = Schema.decodeUnknown(StoredPermissions)

/** Who is acting: its id and the permissions of its role, as of this request. */
export interface CcActor {
  readonly id: string
  readonly permissions: Permissions
}

export interface NewCcUser {
  readonly email: string
  readonly displayName: string
  readonly password: string
  readonly roleId: string
}

export interface CcUserPatch {
  readonly displayName?: string
  readonly password?: string
  readonly roleId?: string
  readonly isActive?: boolean
}

export class CcUsers extends Effect.Service<CcUsers>()("mitra/CcUsers", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sessions = yield* RefreshSessions

    const select = (where: ReturnType<typeof sql.and>) =>
      orDatabaseUnavailable(sql`
        SELECT u.id, u.email, u.display_name, u.role_id, r.name AS role_name, u.is_active, u.created_at
        FROM control_center_users u JOIN roles r ON r.id = u.role_id
        WHERE ${where}
        ORDER BY lower(u.email)
      `).pipe(Effect.flatMap(decodeRows), Effect.catchTag("ParseError", Effect.die))

    /** 404 for an unknown role; 403 unless `actorPermissions` cover all of the role's; else its permissions. */
    const roleGrantable = (roleId: string, actorPermissions: Permissions) =>
      Effect.gen(function*() {
        const [role] = yield* sql<{ name: string; permissions: unknown }>`SELECT name, permissions FROM roles WHERE id = ${roleId}`
        if (role === undefined) return yield* new RoleNotFound({ message: "No such role", roleId })
        const permissions = yield* decodePermissions(role.permissions).pipe(Effect.orDie)
        yield* requireCanGrant(actorPermissions, permissions, `role "${role.name}"`)
        return permissions
      })

    /**
     * Serialises every change that can take super-admin power away (a demotion or a deactivation),
     * for the rest of the transaction. Without it, two such changes running at once (two
     * super-admins deactivating each other) would each count the other as the one that remains.
     */
    const lockSuperAdminChanges = sql`SELECT pg_advisory_xact_lock(hashtext('mitra-availability:super-admins'))`

    /** Active users other than `userId` whose role grants the whole catalog (jsonb `@>` = every action of every resource). */
    const otherActiveSuperAdmins = (userId: string) =>
      sql<{ n: number }>`
        SELECT count(*)::int AS n
        FROM control_center_users u JOIN roles r ON r.id = u.role_id
        WHERE u.is_active AND u.id <> ${userId} AND r.permissions @> ${JSON.stringify(allPermissions)}::jsonb
      `.pipe(Effect.map(([row]) => row?.n ?? 0))

    const list = Effect.fn("CcUsers.list")(function*() {
      return yield* select(sql.and([]))
    })

    const get = Effect.fn("CcUsers.get")(function*(userId: string) {
      const [user] = yield* select(sql.and([sql`u.id = ${userId}`]))
      if (user === undefined) return yield* new CcUserNotFound({ message: "No such control-center user", userId })
      return user
    })

    /** Emails are unique however they are cased (`lower(email)` index). */
    const create = Effect.fn("CcUsers.create")(function*(user: NewCcUser, actorPermissions: Permissions) {
      const passwordHash = yield* hashPassword(user.password)
      const created = yield* orDatabaseUnavailable(sql.withTransaction(Effect.gen(function*() {
        yield* roleGrantable(user.roleId, actorPermissions)
        const [row] = yield* sql<{ id: string }>`
          INSERT INTO control_center_users (email, display_name, role_id, password_hash)
          VALUES (${user.email}, ${user.displayName}, ${user.roleId}, ${passwordHash})
          ON CONFLICT ((lower(email))) DO NOTHING
          RETURNING id
        `
        if (row === undefined) {
          return yield* new DuplicateEmail({ message: "A control-center user with this email already exists", email: user.email })
        }
        return row.id
      })))
      yield* Effect.annotateCurrentSpan("cc_user.id", created)
      return yield* get(created).pipe(Effect.catchTag("CcUserNotFound", Effect.die))
    })

    /**
     * `actor` may only change a user whose role is within its own permissions (403), may not
     * deactivate itself (409), may grant only roles within its own permissions (403), and may not
     * demote or deactivate the last active super-admin (409). Every check runs inside the
     * transaction that writes, on the locked row, so nothing is written when one fails.
     */
    const update = Effect.fn("CcUsers.update")(function*(userId: string, patch: CcUserPatch, actor: CcActor) {
      yield* Effect.annotateCurrentSpan("cc_user.id", userId)
      const { password, ...fields } = patch
      const passwordHash = password === undefined ? undefined : yield* hashPassword(password)
      const changes = { ...fields, ...(passwordHash === undefined ? {} : { passwordHash }) }
      yield* orDatabaseUnavailable(sql.withTransaction(Effect.gen(function*() {
        if (patch.isActive === false || patch.roleId !== undefined) yield* lockSuperAdminChanges
        const [before] = yield* sql<{ id: string; isActive: boolean; roleName: string; permissions: unknown }>`
          SELECT u.id, u.is_active, r.name AS role_name, r.permissions
          FROM control_center_users u JOIN roles r ON r.id = u.role_id
          WHERE u.id = ${userId}
          FOR UPDATE OF u
        `
        if (before === undefined) return yield* new CcUserNotFound({ message: "No such control-center user", userId })
        // The row's id, as Postgres spells it, against the actor's canonical id: never two spellings of one id.
        if (patch.isActive === false && before.id === actor.id) {
          return yield* new CannotDeactivateSelf({ message: "A control-center user cannot deactivate itself" })
        }
        const currentPermissions = yield* decodePermissions(before.permissions).pipe(Effect.orDie)
        yield* requireCanManage(actor.permissions, currentPermissions, `user ${before.id} (role "${before.roleName}")`)
        const newPermissions = patch.roleId === undefined ? undefined : yield* roleGrantable(patch.roleId, actor.permissions)
        const losesSuperAdmin = before.isActive && grantsEverything(currentPermissions) &&
          (patch.isActive === false || (newPermissions !== undefined && !grantsEverything(newPermissions)))
        if (losesSuperAdmin && (yield* otherActiveSuperAdmins(before.id)) === 0) {
          return yield* new LastSuperAdmin({
            message: "This is the last active super-admin (a role granting every permission): " +
              "it can be neither demoted nor deactivated until another user holds every permission",
            userId: before.id
          })
        }
        if (Object.keys(changes).length === 0) return
        yield* sql`UPDATE control_center_users SET ${sql.update(changes)} WHERE id = ${userId}`
        if (before.isActive && patch.isActive === false) {
          yield* sessions.revokeAllOf("cc_user", before.id, "cc_user_deactivated")
        } else if (passwordHash !== undefined) {
          yield* sessions.revokeAllOf("cc_user", before.id, "password_changed")
        }
      })))
      return yield* get(userId)
    })

    return { list, get, create, update }
  }),
  dependencies: [RefreshSessions.Default]
}) {}
