/**
 * Control-center users: list, create, edit — with the rules that keep power from leaking: an actor
 * grants and changes only what it holds itself (`Grants.ts`), and the last super-admin stays
 * (docs/control-center.md, docs/security.md "Control-center lockout protection").
 */
import { Effect, Option } from "effect"
import type { CcUser } from "../auth/CcUser.js"
import { CcUsersRepo } from "../auth/CcUsersRepo.js"
import { hashPassword } from "../auth/Passwords.js"
import { allPermissions } from "../auth/PermissionCatalog.js"
import type { Permissions } from "../auth/Principals.js"
import { RefreshSessions } from "../auth/RefreshSessions.js"
import { Transactions } from "../db/Repository.js"
import { CannotDeactivateSelf, CcUserNotFound, DuplicateEmail, LastSuperAdmin, RoleNotFound } from "./ControlCenterErrors.js"
import { grantsEverything, requireCanGrant, requireCanManage } from "./Grants.js"

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
    const repo = yield* CcUsersRepo
    const sessions = yield* RefreshSessions
    const transactions = yield* Transactions

    const notFound = (userId: string) => new CcUserNotFound({ message: "No such control-center user", userId })

    /** 404 for an unknown role; 403 unless `actorPermissions` cover all of the role's; else its permissions. */
    const roleGrantable = (roleId: string, actorPermissions: Permissions) =>
      Effect.gen(function*() {
        const role = yield* repo.roleById(roleId)
        if (Option.isNone(role)) return yield* new RoleNotFound({ message: "No such role", roleId })
        yield* requireCanGrant(actorPermissions, role.value.permissions, `role "${role.value.name}"`)
        return role.value.permissions
      })

    const list = Effect.fn("CcUsers.list")(function*() {
      return yield* repo.allUsers
    })

    const get = Effect.fn("CcUsers.get")(function*(userId: string) {
      const user = yield* repo.userById(userId)
      if (Option.isNone(user)) return yield* notFound(userId)
      return user.value satisfies CcUser
    })

    /** Emails are unique however they are cased (`lower(email)` index). */
    const create = Effect.fn("CcUsers.create")(function*(user: NewCcUser, actorPermissions: Permissions) {
      const passwordHash = yield* hashPassword(user.password)
      const created = yield* transactions.run(Effect.gen(function*() {
        yield* roleGrantable(user.roleId, actorPermissions)
        const row = yield* repo.insertUser({
          email: user.email,
          displayName: user.displayName,
          roleId: user.roleId,
          passwordHash
        })
        if (Option.isNone(row)) {
          return yield* new DuplicateEmail({ message: "A control-center user with this email already exists", email: user.email })
        }
        return row.value.id
      }))
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
      yield* transactions.run(Effect.gen(function*() {
        // Serialises the changes that can take super-admin power away: without it, two running at
        // once (two super-admins deactivating each other) would each count the other as the one
        // that remains.
        if (patch.isActive === false || patch.roleId !== undefined) yield* repo.lockSuperAdminChanges
        const found = yield* repo.userForUpdate(userId)
        if (Option.isNone(found)) return yield* notFound(userId)
        const before = found.value
        // The row's id, as Postgres spells it, against the actor's canonical id: never two spellings of one id.
        if (patch.isActive === false && before.id === actor.id) {
          return yield* new CannotDeactivateSelf({ message: "A control-center user cannot deactivate itself" })
        }
        yield* requireCanManage(actor.permissions, before.permissions, `user ${before.id} (role "${before.roleName}")`)
        const newPermissions = patch.roleId === undefined ? undefined : yield* roleGrantable(patch.roleId, actor.permissions)
        const losesSuperAdmin = before.isActive && grantsEverything(before.permissions) &&
          (patch.isActive === false || (newPermissions !== undefined && !grantsEverything(newPermissions)))
        if (losesSuperAdmin && (yield* repo.countActiveHolders({ permissions: allPermissions, except: before.id })) === 0) {
          return yield* new LastSuperAdmin({
            message: "This is the last active super-admin (a role granting every permission): " +
              "it can be neither demoted nor deactivated until another user holds every permission",
            userId: before.id
          })
        }
        if (Object.keys(changes).length === 0) return
        yield* repo.updateUser({ userId, changes })
        if (before.isActive && patch.isActive === false) {
          yield* sessions.revokeAllOf("cc_user", before.id, "cc_user_deactivated")
        } else if (passwordHash !== undefined) {
          yield* sessions.revokeAllOf("cc_user", before.id, "password_changed")
        }
      }))
      return yield* get(userId)
    })

    return { list, get, create, update }
  }),
  dependencies: [CcUsersRepo.Default, RefreshSessions.Default, Transactions.Default]
}) {}
