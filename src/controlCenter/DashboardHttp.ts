import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CcUserAuthenticationLive } from "../auth/AuthenticationLive.js"
import { requirePermission } from "../auth/RequirePermission.js"
import { Dashboard } from "./Dashboard.js"

export const DashboardHttpLive = HttpApiBuilder.group(Api, "dashboard", (handlers) =>
  Effect.map(Dashboard, (dashboard) =>
    handlers.handle("dashboard", () => requirePermission("mitra", "read").pipe(Effect.zipRight(dashboard.counts())))))
  .pipe(Layer.provide([Dashboard.Default, CcUserAuthenticationLive]))
