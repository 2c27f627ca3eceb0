import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { prometheusText } from "../observability/PrometheusText.js"
import { Health, NotReady, Readiness } from "./OpsApi.js"
import { ReadinessCheck } from "./ReadinessCheck.js"

export const OpsHttpLive = HttpApiBuilder.group(Api, "ops", (handlers) =>
  Effect.gen(function*() {
    const readiness = yield* ReadinessCheck
    return handlers
      .handle("healthz", () => Effect.succeed(new Health({ status: "ok" })))
      .handle("readyz", () =>
        readiness.check().pipe(
          Effect.flatMap((report) =>
            report.postgres === "up"
              ? Effect.succeed(new Readiness({ postgres: "up", valkey: report.valkey }))
              : Effect.fail(new NotReady({ message: "Postgres is unreachable", postgres: "down", valkey: report.valkey }))
          )
        ))
      .handle("metrics", () => prometheusText)
  })).pipe(Layer.provide(ReadinessCheck.Default))
