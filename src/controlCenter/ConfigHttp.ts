/** `/internal/config` handlers: the permission check, then `ConfigEditor` (writes record the actor). */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { CcUserAuthenticationLive } from "../auth/AuthenticationLive.js"
import { CurrentCcUser } from "../auth/Principals.js"
import { requirePermission } from "../auth/RequirePermission.js"
import { Api } from "../Api.js"
import { ConfigEditor } from "./ConfigEditor.js"

export const ConfigHttpLive = HttpApiBuilder.group(Api, "config", (handlers) =>
  Effect.gen(function*() {
    const editor = yield* ConfigEditor
    return handlers
      .handle("getAll", () => requirePermission("config", "read").pipe(Effect.zipRight(editor.all())))
      .handle("put", ({ path, payload }) =>
        Effect.gen(function*() {
          yield* requirePermission("config", "update")
          const user = yield* CurrentCcUser
          return yield* editor.put(path.key, payload.value, user.id)
        }))
  })).pipe(Layer.provide([ConfigEditor.Default, CcUserAuthenticationLive]))
