/**
 * A control-center user may only hand out what it holds itself: a new role's permissions, or the
 * role given to a user, must be a subset of the actor's own. Without this, `roles:create` or
 * `control_center_users:update` alone would let a user take `super_admin` (or any role it writes).
 */
import { Effect } from "effect"
import { Forbidden } from "../auth/AuthErrors.js"
import type { Permissions } from "../auth/Principals.js"

/** Every `resource:action` of `wanted` that `held` does not grant; empty when `wanted` ⊆ `held`. */
export const missingGrants = (held: Permissions, wanted: Permissions): ReadonlyArray<string> =>
  Object.entries(wanted).flatMap(([resource, actions]) => {
    const heldActions = Object.hasOwn(held, resource) ? held[resource] : undefined
    return actions.filter((action) => heldActions?.includes(action) !== true).map((action) => `${resource}:${action}`)
  })

/** Fails with 403 unless `held` grants every permission of `wanted`; `what` names what is being granted. */
export const requireCanGrant = (held: Permissions, wanted: Permissions, what: string) => {
  const missing = missingGrants(held, wanted)
  return missing.length === 0
    ? Effect.void
    : Effect.fail(
      new Forbidden({ message: `Cannot grant ${what}: it holds permissions you do not have (${missing.join(", ")})` })
    )
}
