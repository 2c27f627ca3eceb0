/** `/api/mitra`: a mitra's own profile and status (API.md, Mitra). */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { MitraAuthentication, MitraTokenAuthentication } from "../auth/Middleware.js"
import { Forbidden } from "../auth/AuthErrors.js"
import { MitraNotFound } from "../mitras/MitraErrors.js"
import { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { MitraMe } from "./MitraMe.js"

export const OnlineState = Schema.Struct({ isOnline: Schema.Boolean }).annotations({ identifier: "OnlineState" })

export class MitraApi extends HttpApiGroup.make("mitra")
  .add(
    HttpApiEndpoint.get("me", "/api/mitra/me")
      .addSuccess(MitraMe)
      .addError(MitraNotFound)
      .middleware(MitraAuthentication)
      .annotate(OpenApi.Summary, "The calling mitra: profile, online state, live sessions and capacity")
  )
  .add(
    HttpApiEndpoint.post("online", "/api/mitra/status/online")
      .addSuccess(OnlineState)
      .addError(MitraNotFound)
      .middleware(MitraAuthentication)
      .annotate(OpenApi.Summary, "Goes online (counts as a heartbeat)")
  )
  .add(
    HttpApiEndpoint.post("offline", "/api/mitra/status/offline")
      .addSuccess(OnlineState)
      .addError(MitraNotFound)
      .middleware(MitraAuthentication)
      .annotate(OpenApi.Summary, "Goes offline: open offers are withdrawn and live sessions rerouted to other mitras")
  )
  .add(
    HttpApiEndpoint.post("heartbeat", "/api/mitra/status/heartbeat")
      .addSuccess(HttpApiSchema.NoContent)
      .addError(Forbidden)
      .addError(DatabaseUnavailable)
      .middleware(MitraTokenAuthentication)
      .annotate(
        OpenApi.Description,
        "Keeps an online mitra fresh. 204 also when the mitra is offline (nothing is recorded: a ping never brings a " +
          "mitra back online; GET /api/mitra/me tells the app its state). 403 when deactivated, even while Valkey is down."
      )
  )
  .annotate(OpenApi.Title, "Mitra")
{}
