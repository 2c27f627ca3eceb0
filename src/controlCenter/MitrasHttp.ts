import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { CcUserAuthenticationLive } from "../auth/AuthenticationLive.js"
import { requirePermission } from "../auth/RequirePermission.js"
import { CurrentCcUser } from "../auth/Principals.js"
import { Api } from "../Api.js"
import { MitraAccounts } from "./MitraAccounts.js"

export const MitrasHttpLive = HttpApiBuilder.group(Api, "mitras", (handlers) =>
  Effect.gen(function*() {
    const accounts = yield* MitraAccounts
    return handlers
      .handle("list", ({ urlParams }) => requirePermission("mitra", "read").pipe(Effect.zipRight(accounts.list(urlParams))))
      .handle("create", ({ payload }) =>
        requirePermission("mitra", "create").pipe(
          Effect.zipRight(accounts.create(payload)),
          Effect.map((mitra) => ({ mitra }))
        ))
      .handle("get", ({ path }) =>
        requirePermission("mitra", "read").pipe(
          Effect.zipRight(accounts.get(path.id)),
          Effect.map((mitra) => ({ mitra }))
        ))
      .handle("statusEvents", ({ path, urlParams }) =>
        requirePermission("mitra", "read").pipe(Effect.zipRight(accounts.statusEvents(path.id, urlParams))))
      .handle("update", ({ path, payload }) =>
        Effect.gen(function*() {
          yield* requirePermission("mitra", "update")
          const user = yield* CurrentCcUser
          return { mitra: yield* accounts.update(path.id, payload, user.id) }
        }))
  })).pipe(Layer.provide([MitraAccounts.Default, CcUserAuthenticationLive]))
