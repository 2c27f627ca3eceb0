import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CcUserAuthenticationLive } from "../auth/AuthenticationLive.js"
import { requirePermission } from "../auth/RequirePermission.js"
import { SessionQueries } from "../sessions/SessionQueries.js"

export const ChatSessionsHttpLive = HttpApiBuilder.group(Api, "chatSessions", (handlers) =>
  Effect.gen(function*() {
    const queries = yield* SessionQueries
    return handlers
      .handle("list", ({ urlParams }) => requirePermission("sessions", "read").pipe(Effect.zipRight(queries.page(urlParams))))
      .handle("get", ({ path }) => requirePermission("sessions", "read").pipe(Effect.zipRight(queries.withOffers(path.id))))
  })).pipe(Layer.provide([SessionQueries.Default, CcUserAuthenticationLive]))
