import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { requirePermission } from "../auth/RequirePermission.js"
import { Api } from "../Api.js"
import { ValkeyConnection } from "../valkey/ValkeyConnection.js"
import { Availability } from "./Availability.js"
import { Beacon, Dashboard } from "./AvailabilityApi.js"

export const AvailabilityHttpLive = HttpApiBuilder.group(Api, "availability", (handlers) =>
  Effect.map(Availability, (availability) =>
    handlers.handle("beacon", () =>
      // Polled by every customer app: untraced (`untracedUrls` drops only the server span; the
      // service's own spans would otherwise be exported per request).
      Effect.map(availability.countAvailableMitrasFromCache(), (snapshot) => new Beacon(snapshot)).pipe(
        Effect.withTracerEnabled(false)
      ))))

export const DashboardHttpLive = HttpApiBuilder.group(Api, "dashboard", (handlers) =>
  Effect.gen(function*() {
    const availability = yield* Availability
    const valkey = yield* ValkeyConnection
    return handlers.handle("dashboard", () =>
      Effect.gen(function*() {
        yield* requirePermission("mitra", "read")
        const [counts, state] = yield* Effect.all([availability.dashboardCounts(), valkey.state], { concurrency: 2 })
        return new Dashboard({ ...counts, valkey: state })
      }))
  }))
