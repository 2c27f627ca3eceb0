/** Control-center roles: a name and the permissions it grants (validated against the catalog). */
import { Effect, Option } from "effect"
import { CcUsersRepo } from "../auth/CcUsersRepo.js"
import type { Permissions } from "../auth/Principals.js"
import type { Role } from "../auth/Role.js"
import { DuplicateRoleName } from "./ControlCenterErrors.js"
import { requireCanGrant } from "./Grants.js"

export class Roles extends Effect.Service<Roles>()("mitra/Roles", {
  effect: Effect.gen(function*() {
    const repo = yield* CcUsersRepo

    const list = Effect.fn("Roles.list")(function*() {
      return yield* repo.allRoles
    })

    /**
     * `permissions` must already be validated (`PermissionsInput`). The actor (`actorPermissions`)
     * must hold every one of them (403 otherwise): nobody writes a role granting more than it has.
     * Names are unique ignoring case (`lower(name)` index, migration 0004): 409 for a case variant.
     */
    const create = Effect.fn("Roles.create")(
      function*(name: string, permissions: Permissions, actorPermissions: Permissions) {
        yield* requireCanGrant(actorPermissions, permissions, `role "${name}"`)
        const inserted = yield* repo.insertRole({ name, permissions })
        if (Option.isNone(inserted)) {
          return yield* new DuplicateRoleName({ message: "A role with this name already exists (names are compared ignoring case)", name })
        }
        const role: Role = inserted.value
        yield* Effect.annotateCurrentSpan("role.id", role.id)
        return role
      }
    )

    return { list, create }
  }),
  dependencies: [CcUsersRepo.Default]
}) {}
