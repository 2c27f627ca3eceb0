/**
 * API-level middleware: a `TooManyRequests` failure is answered here rather than by the API's
 * error encoding, because the encoding can set a status and a body but no header, and clients
 * (and proxies) read the wait from `Retry-After`. The body is the error's own encoding, the same
 * JSON the OpenAPI document declares for 429.
 */
import { HttpApiBuilder, HttpServerResponse, type HttpApp } from "@effect/platform"
import { Cause, Effect, Option, Schema } from "effect"
import { TooManyRequests } from "./TooManyRequests.js"

const encode = Schema.encodeSync(TooManyRequests)

export const tooManyRequestsResponses = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.catchAllCause(app, (cause) => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure) && failure.value instanceof TooManyRequests) {
      return Effect.succeed(HttpServerResponse.unsafeJson(encode(failure.value), {
        status: 429,
        headers: { "retry-after": String(failure.value.retryAfterSeconds) }
      }))
    }
    return Effect.failCause(cause)
  })

export const TooManyRequestsResponsesLive = HttpApiBuilder.middleware(tooManyRequestsResponses)
