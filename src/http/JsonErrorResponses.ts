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

const isTagged = (u: unknown): u is Tagged =>
  typeof u === "object" && u !== null && "_tag" in u && typeof (u as Tagged)._tag === "string"

/** The status and JSON body of a failure the API's error schema does not describe, if it is one this module answers. */
export const undeclaredFailureAnswer = (error: unknown): Option.Option<{ readonly status: number; readonly body: Tagged }> => {
  if (isTagged(error)) {
    switch (error._tag) {
      case "RouteNotFound":
        return Option.some({ status: 404, body: { _tag: "NotFound", message: "No such route" } })
      case "RequestError":
        return Option.some({ status: 400, body: { _tag: "BadRequest", message: "The request body could not be read as JSON" } })
      case "SqlError":
        return Option.some({
          status: 503,
          body: { _tag: "DatabaseUnavailable", message: "The database is unavailable; try again shortly." }
        })
    }
  }
  return Option.none()
}

/** The last-resort answer to a defect (logged by whoever gives it). */
export const internalErrorAnswer = {
  status: 500,
  body: { _tag: "InternalError", message: "Something went wrong on our side" }
} as const

const respondTo = (error: unknown) =>
  Option.map(undeclaredFailureAnswer(error), ({ body, status }) => HttpServerResponse.unsafeJson(body, { status }))

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
      Effect.as(HttpServerResponse.unsafeJson(internalErrorAnswer.body, { status: internalErrorAnswer.status }))
    )
  })

export const JsonErrorResponsesLive = HttpApiBuilder.middleware(jsonErrorResponses)
