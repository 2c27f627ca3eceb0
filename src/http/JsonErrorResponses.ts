/**
 * API-level middleware (around the router, inside the API's own error encoding): the failures the
 * API's error schema does not describe are answered as JSON instead of an empty body, and the one
 * it does describe but words from the input is cut to size.
 *
 * - an unknown route → 404 `NotFound`
 * - a body that cannot be read or parsed (malformed JSON) → 400 `BadRequest`
 * - input that does not decode → 400 `HttpApiDecodeError`, bounded (`BoundedErrors.ts`)
 * - a database failure nobody mapped → 503 `DatabaseUnavailable`
 * - a defect (a bug) → logged with its cause, 500 `InternalError`
 *
 * Every other failure is a declared API error and passes through to be encoded by the API.
 */
import { HttpApiBuilder, HttpApiError, HttpServerResponse, type HttpApp } from "@effect/platform"
import { Cause, Effect, Option } from "effect"
import { boundDecodeError } from "./BoundedErrors.js"

type Tagged = { readonly _tag: string; readonly [key: string]: unknown }

const json = (status: number, body: Tagged) => HttpServerResponse.unsafeJson(body, { status })

const isTagged = (u: unknown): u is Tagged =>
  typeof u === "object" && u !== null && "_tag" in u && typeof (u as Tagged)._tag === "string"

const respondTo = (error: unknown) => {
  if (isTagged(error)) {
    switch (error._tag) {
      case "RouteNotFound":
        return Option.some(json(404, { _tag: "NotFound", message: "No such route" }))
      case "RequestError":
        return Option.some(json(400, { _tag: "BadRequest", message: "The request body could not be read as JSON" }))
      case "SqlError":
        return Option.some(
          json(503, { _tag: "DatabaseUnavailable", message: "The database is unavailable; try again shortly." })
        )
    }
  }
  return Option.none()
}

export const jsonErrorResponses = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<never, R> =>
  Effect.catchAllCause(app, (cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause) as never
    // The API reads bodies with `orDie`: a malformed body arrives as a defect carrying a RequestError.
    const known = Option.orElse(
      Option.flatMap(Cause.failureOption(cause), respondTo),
      () => Option.flatMap(Cause.dieOption(cause), respondTo)
    )
    if (Option.isSome(known)) return Effect.succeed(known.value)
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      return (failure.value instanceof HttpApiError.HttpApiDecodeError
        ? Effect.fail(boundDecodeError(failure.value))
        : Effect.failCause(cause)) as never
    }
    return Effect.logError("Unhandled failure while serving a request", cause).pipe(
      Effect.as(json(500, { _tag: "InternalError", message: "Something went wrong on our side" }))
    )
  })

export const JsonErrorResponsesLive = HttpApiBuilder.middleware(jsonErrorResponses)
