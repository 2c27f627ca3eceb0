/**
 * A control-center user may only hand out what it holds itself: a new role's permissions, or the
 * role given to a user, must be a subset of the actor's own. Without this, `roles:create` or
 * `control_center_users:update` alone would let a user take `super_admin` (or any role it writes).
 *
 * The same subset rule guards the users themselves: an actor may only change (role, password,
 * name, activation) a user whose current role is within its own permissions, so a lesser admin
 * can neither take over nor lock out a more powerful one.
 */
import { Effect } from "effect"
import { Forbidden } from "../auth/AuthErrors.js"
import { allPermissions } from "../auth/PermissionCatalog.js"
import type { Permissions } from "../auth/Principals.js"

/** Every `resource:action` of `wanted` that `held` does not grant; empty when `wanted` ⊆ `held`. */
export const missingGrants = (held: Permissions, wanted: Permissions): ReadonlyArray<string> =>
  Object.entries(wanted).flatMap(([resource, actions]) => {
    const heldActions = Object.hasOwn(held, resource) ? held[resource] : undefined
    return actions.filter((action) => heldActions?.includes(action) !== true).map((action) => `${resource}:${action}`)
  })

/** True when `permissions` grant the whole catalog: a super-admin's role (e.g. the bootstrap `super_admin`). */
export const grantsEverything = (permissions: Permissions) => missingGrants(permissions, allPermissions).length === 0

const requireSubset = (held: Permissions, wanted: Permissions, refusal: (missing: string) => string) => {
  const missing = missingGrants(held, wanted)
  return missing.length === 0 ? Effect.void : Effect.fail(new Forbidden({ message: refusal(missing.join(", ")) }))
}

/** Fails with 403 unless `held` grants every permission of `wanted`; `what` names what is being granted. */
export const requireCanGrant = (held: Permissions, wanted: Permissions, what: string) =>
  requireSubset(held, wanted, (missing) => `Cannot grant ${what}: it holds permissions you do not have (${missing})`)

/**
 * Fails with 403 unless `held` grants every permission of the role of the user being changed;
 * `who` names that user.
 */
export const requireCanManage = (held: Permissions, targetPermissions: Permissions, who: string) =>
  requireSubset(
    held,
    targetPermissions,
    (missing) => `Cannot change ${who}: its role holds permissions you do not have (${missing})`
  )
