/** `/internal/roles` handlers: the permission check, then one `Roles` call with the actor's permissions. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { CcUserAuthenticationLive } from "../auth/AuthenticationLive.js"
import { CurrentCcUser } from "../auth/Principals.js"
import { requirePermission } from "../auth/RequirePermission.js"
import { Api } from "../Api.js"
import { Roles } from "./Roles.js"

export const RolesHttpLive = HttpApiBuilder.group(Api, "roles", (handlers) =>
  Effect.gen(function*() {
    const roles = yield* Roles
    return handlers
      .handle("list", () =>
        requirePermission("roles", "read").pipe(
          Effect.zipRight(roles.list()),
          Effect.map((items) => ({ items }))
        ))
      .handle("create", ({ payload }) =>
        Effect.gen(function*() {
          yield* requirePermission("roles", "create")
          const actor = yield* CurrentCcUser
          return { role: yield* roles.create(payload.name, payload.permissions, actor.permissions) }
        }))
  })).pipe(Layer.provide([Roles.Default, CcUserAuthenticationLive]))
