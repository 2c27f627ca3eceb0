import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { Api } from "../Api.js"
import { BadRequest } from "../http/HttpErrors.js"
import { Payments } from "./Payments.js"

export const PaymentsHttpLive = HttpApiBuilder.group(Api, "payments", (handlers) =>
  Effect.gen(function*() {
    const payments = yield* Payments
    return handlers.handle("webhook", ({ headers }) =>
      Effect.gen(function*() {
        // The bytes as sent (held in memory by the body guard): what the signature covers.
        const request = yield* HttpServerRequest.HttpServerRequest
        const body = yield* request.arrayBuffer.pipe(
          Effect.mapError(() => new BadRequest({ message: "The request body could not be read" }))
        )
        yield* payments.notify(new Uint8Array(body), Option.fromNullable(headers["x-signature"]))
      }))
  })).pipe(Layer.provide(Payments.Default))
