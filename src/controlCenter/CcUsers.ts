/**
 * Control-center users: list, create, edit. Deactivating a user or changing its password ends its
 * refresh sessions in the same transaction; its access tokens stop working at once because
 * `CcUserAuthentication` reads `is_active` on every request.
 *
 * Giving a user a role (create, or a new `roleId`) requires the actor to hold every permission of
 * that role, and setting a user's password requires the actor to hold every permission of the
 * user's current role (else it could sign in as a more powerful user): 403, nothing written.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { hashPassword } from "../auth/Passwords.js"
import type { Permissions } from "../auth/Principals.js"
import { RefreshSessions } from "../auth/RefreshSessions.js"
import { orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { CannotDeactivateSelf, CcUserNotFound, DuplicateEmail, RoleNotFound } from "./ControlCenterErrors.js"
import { requireCanGrant } from "./Grants.js"

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

    /** 404 for an unknown role; 403 unless `actorPermissions` cover all of the role's. */
    const roleGrantable = (roleId: string, actorPermissions: Permissions) =>
      Effect.gen(function*() {
        const [role] = yield* sql<{ name: string; permissions: unknown }>`SELECT name, permissions FROM roles WHERE id = ${roleId}`
        if (role === undefined) return yield* new RoleNotFound({ message: "No such role", roleId })
        const permissions = yield* decodePermissions(role.permissions).pipe(Effect.orDie)
        yield* requireCanGrant(actorPermissions, permissions, `role "${role.name}"`)
      })

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

    /** `actor` may not deactivate itself, nor grant a role or set a password beyond its own permissions. */
    const update = Effect.fn("CcUsers.update")(function*(userId: string, patch: CcUserPatch, actor: CcActor) {
      yield* Effect.annotateCurrentSpan("cc_user.id", userId)
      if (patch.isActive === false && userId === actor.id) {
        return yield* new CannotDeactivateSelf({ message: "A control-center user cannot deactivate itself" })
      }
      const { password, ...fields } = patch
      const passwordHash = password === undefined ? undefined : yield* hashPassword(password)
      const changes = { ...fields, ...(passwordHash === undefined ? {} : { passwordHash }) }
      if (Object.keys(changes).length > 0) {
        yield* orDatabaseUnavailable(sql.withTransaction(Effect.gen(function*() {
          if (patch.roleId !== undefined) yield* roleGrantable(patch.roleId, actor.permissions)
          const [before] = yield* sql<{ isActive: boolean; roleId: string }>`
            SELECT is_active, role_id FROM control_center_users WHERE id = ${userId} FOR UPDATE
          `
          if (before === undefined) return yield* new CcUserNotFound({ message: "No such control-center user", userId })
          // A new password for a user is a way to become that user: only within one's own permissions.
          if (passwordHash !== undefined && userId !== actor.id) yield* roleGrantable(before.roleId, actor.permissions)
          yield* sql`UPDATE control_center_users SET ${sql.update(changes)} WHERE id = ${userId}`
          if (before.isActive && patch.isActive === false) {
            yield* sessions.revokeAllOf("cc_user", userId, "cc_user_deactivated")
          } else if (passwordHash !== undefined) {
            yield* sessions.revokeAllOf("cc_user", userId, "password_changed")
          }
        })))
      }
      return yield* get(userId)
    })

    return { list, get, create, update }
  }),
  dependencies: [RefreshSessions.Default]
}) {}
