/** The public beacon (`GET /api/availability`, API.md): no auth, served from the shared snapshot. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { DatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { BeaconSnapshot } from "./beaconCache/BeaconSnapshot.js"

export class AvailabilityApi extends HttpApiGroup.make("availability")
  .add(
    HttpApiEndpoint.get("beacon", "/api/availability")
      .addSuccess(BeaconSnapshot)
      .addError(DatabaseUnavailable)
      .annotate(OpenApi.Summary, "How many mitras are available now (public; served from a shared snapshot)")
  )
  .annotate(OpenApi.Title, "Availability")
{}
