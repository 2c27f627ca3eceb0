/** The public beacon (`GET /api/availability`) and the control center's dashboard counts (API.md). */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CcUserAuthentication } from "../auth/Middleware.js"
import { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { ValkeyState } from "../ops/OpsApi.js"

export class Beacon extends Schema.Class<Beacon>("Beacon")({
  /** Mitras who can take a customer now. */
  available: Schema.NonNegativeInt,
  /** When that number was computed (the snapshot is shared for a few seconds). */
  asOf: Schema.String
}) {}

export class Dashboard extends Schema.Class<Dashboard>("Dashboard")({
  online: Schema.NonNegativeInt,
  available: Schema.NonNegativeInt,
  liveSessions: Schema.NonNegativeInt,
  searching: Schema.NonNegativeInt,
  valkey: ValkeyState
}) {}

export class AvailabilityApi extends HttpApiGroup.make("availability")
  .add(
    HttpApiEndpoint.get("beacon", "/api/availability")
      .addSuccess(Beacon)
      .addError(DatabaseUnavailable)
      .annotate(OpenApi.Summary, "How many mitras are available now (public; served from a shared snapshot)")
  )
  .annotate(OpenApi.Title, "Availability")
{}

export class DashboardApi extends HttpApiGroup.make("dashboard")
  .add(
    HttpApiEndpoint.get("dashboard", "/internal/dashboard")
      .addSuccess(Dashboard)
      .addError(DatabaseUnavailable)
      .annotate(OpenApi.Summary, "Online and available mitras, live and searching sessions; permission mitra:read")
  )
  .middleware(CcUserAuthentication)
  .annotate(OpenApi.Title, "Control center: dashboard")
{}
