/** Operations endpoints: liveness and readiness probes for load balancers and orchestrators. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

export const ValkeyState = Schema.Literal("up", "degraded", "disabled")

export class Health extends Schema.Class<Health>("Health")({ status: Schema.Literal("ok") }) {}

export class Readiness extends Schema.Class<Readiness>("Readiness")({
  postgres: Schema.Literal("up"),
  valkey: ValkeyState
}) {}

/** Postgres is unreachable: take this instance out of rotation. */
export class NotReady extends Schema.TaggedError<NotReady>()(
  "NotReady",
  { message: Schema.String, postgres: Schema.Literal("down"), valkey: ValkeyState },
  HttpApiSchema.annotations({ status: 503 })
) {}

export class OpsApi extends HttpApiGroup.make("ops")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Health))
  .add(HttpApiEndpoint.get("readyz", "/readyz").addSuccess(Readiness).addError(NotReady))
  .add(
    HttpApiEndpoint.get("metrics", "/metrics").addSuccess(HttpApiSchema.Text({ contentType: "text/plain; version=0.0.4" }))
  )
{}
