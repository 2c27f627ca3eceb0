import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { Beacon } from "./Beacon.js"

export const AvailabilityHttpLive = HttpApiBuilder.group(Api, "availability", (handlers) =>
  Effect.map(Beacon, (beacon) =>
    handlers.handle("beacon", () =>
      // Polled by every customer app: untraced (`untracedUrls` drops only the server span; the
      // service's own spans would otherwise be exported per request).
      beacon.current().pipe(Effect.withTracerEnabled(false)))))
  .pipe(Layer.provide(Beacon.Default))
