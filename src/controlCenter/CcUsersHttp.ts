import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { requirePermission } from "../auth/Authentication.js"
import { CurrentCcUser } from "../auth/Principals.js"
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
  }))
