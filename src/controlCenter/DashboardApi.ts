/** `GET /internal/dashboard`: the control center's counts (API.md). */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { CcUserAuthentication } from "../auth/Middleware.js"
import { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { DashboardCounts } from "./DashboardCounts.js"

export class DashboardApi extends HttpApiGroup.make("dashboard")
  .add(
    HttpApiEndpoint.get("dashboard", "/internal/dashboard")
      .addSuccess(DashboardCounts)
      .addError(DatabaseUnavailable)
      .annotate(OpenApi.Summary, "Online and available mitras, live and searching sessions; permission mitra:read")
  )
  .middleware(CcUserAuthentication)
  .annotate(OpenApi.Title, "Control center: dashboard")
{}
