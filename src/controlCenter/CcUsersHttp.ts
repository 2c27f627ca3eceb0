/** `/internal/cc-users` handlers: the permission check, then one `CcUsers` call with the actor. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { CcUserAuthenticationLive } from "../auth/AuthenticationLive.js"
import { CurrentCcUser } from "../auth/Principals.js"
import { requirePermission } from "../auth/RequirePermission.js"
import { Api } from "../Api.js"
import { CcUsers } from "./CcUsers.js"

export const CcUsersHttpLive = HttpApiBuilder.group(Api, "ccUsers", (handlers) =>
  Effect.gen(function*() {
    const users = yield* CcUsers
    return handlers
      .handle("list", () =>
        requirePermission("control_center_users", "read").pipe(
          Effect.zipRight(users.list()),
          Effect.map((items) => ({ items }))
        ))
      .handle("create", ({ payload }) =>
        Effect.gen(function*() {
          yield* requirePermission("control_center_users", "create")
          const actor = yield* CurrentCcUser
          return { user: yield* users.create(payload, actor.permissions) }
        }))
      .handle("update", ({ path, payload }) =>
        Effect.gen(function*() {
          yield* requirePermission("control_center_users", "update")
          const actor = yield* CurrentCcUser
          return { user: yield* users.update(path.id, payload, actor) }
        }))
  })).pipe(Layer.provide([CcUsers.Default, CcUserAuthenticationLive]))
