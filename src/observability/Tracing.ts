/**
 * Traces to an OTLP/HTTP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise spans
 * stay in-process (still used for log correlation). No OpenTelemetry SDK is loaded: Effect's
 * own exporter speaks OTLP over `fetch`.
 */
import { FetchHttpClient } from "@effect/platform"
import { OtlpSerialization, OtlpTracer } from "@effect/opentelemetry"
import { Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.js"

export const TracingLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const { observability } = yield* AppConfig
    if (Option.isNone(observability.otlpEndpoint)) return Layer.empty
    const base = observability.otlpEndpoint.value.replace(/\/+$/, "")
    yield* Effect.logInfo(`Tracing: exporting spans to ${base}/v1/traces`)
    return OtlpTracer.layer({
      url: `${base}/v1/traces`,
      resource: { serviceName: observability.serviceName }
    }).pipe(Layer.provide([FetchHttpClient.layer, OtlpSerialization.layerJson]))
  })
)
