/**
 * The permission check every control-center handler starts with. Typed from the catalog
 * (`PermissionCatalog.ts`): a resource or an action that does not exist there does not compile,
 * so a misspelt check can never silently refuse (or, worse, be the wrong check).
 */
import { Effect } from "effect"
import { Forbidden } from "./AuthErrors.js"
import type { Action, Resource } from "./PermissionCatalog.js"
import { CurrentCcUser } from "./Principals.js"

/** Fails with 403 unless the current control-center user's role grants `action` on `resource`. */
export const requirePermission = <R extends Resource>(resource: R, action: Action<R>) =>
  Effect.flatMap(CurrentCcUser, (user) =>
    user.permissions[resource]?.includes(action) === true
      ? Effect.void
      : Effect.fail(new Forbidden({ message: `Missing permission ${resource}:${action}` })))
