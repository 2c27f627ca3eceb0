/**
 * How a fast route (`FastRoutes.ts`) answers: it runs the service's own Effect on the runtime the
 * routes were built in (the app's services, logger, tracer and clock), and writes the outcome as
 * the API would: the success, a declared error encoded with its schema at its status, a database
 * failure as 503 and a defect logged and answered 500 (`JsonErrorResponses.ts`).
 *
 * Untraced by default, so no span is opened under the request either: a span costs more CPU
 * than these requests themselves. `HOT_ROUTES_TRACE_RATIO` traces that share of them, each under
 * a server span named as the API names its own.
 */
import { HttpApiSchema } from "@effect/platform"
import { Cause, Effect, Exit, FiberRef, Option, Runtime, Schema } from "effect"
import type { ServerResponse } from "node:http"
import { AppConfig } from "../config/AppConfig.js"
import { internalErrorAnswer, undeclaredFailureAnswer } from "./JsonErrorResponses.js"

/** A status, and the JSON text of the body when there is one. */
export interface Answer {
  readonly status: number
  readonly json?: string
}

const interrupted: Answer = {
  status: 503,
  json: JSON.stringify({ _tag: "ServiceUnavailable", message: "The service is shutting down; try again shortly." })
}

const write = (response: ServerResponse, answer: Answer) => {
  if (response.writableEnded) return
  if (answer.json === undefined) {
    response.writeHead(answer.status)
    response.end()
  } else {
    response.writeHead(answer.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(answer.json)
    })
    response.end(answer.json)
  }
}

/** A failure the route's effect declares: a tagged error class that is its own schema. */
const declaredErrorAnswer = (error: unknown): Option.Option<Answer> => {
  const schema: unknown = typeof error === "object" && error !== null ? error.constructor : undefined
  if (!Schema.isSchema(schema)) return Option.none()
  const encoded = Schema.encodeUnknownOption(schema as Schema.Schema<unknown>)(error)
  return Option.map(encoded, (body) => ({ status: HttpApiSchema.getStatusError(schema), json: JSON.stringify(body) }))
}

/** The answer to a failed run; `None` for a defect, which the caller logs. */
const failureAnswer = (cause: Cause.Cause<unknown>): Option.Option<Answer> => {
  if (Cause.isInterruptedOnly(cause)) return Option.some(interrupted)
  return Option.flatMap(Cause.failureOption(cause), (error) =>
    Option.orElse(
      declaredErrorAnswer(error),
      () => Option.map(undeclaredFailureAnswer(error), ({ body, status }) => ({ status, json: JSON.stringify(body) }))
    ))
}

const internalError: Answer = { status: internalErrorAnswer.status, json: JSON.stringify(internalErrorAnswer.body) }

export interface FastAnswers {
  /** Whether this request is one of the traced share (`HOT_ROUTES_TRACE_RATIO`). */
  readonly sample: () => boolean
  /**
   * Runs `effect` and answers with its outcome: `success` of its value, or its failure as the API
   * would answer it. `traced`: under a server span (a sampled request), else with no span at all.
   */
  readonly run: <A, E>(
    route: { readonly method: string; readonly path: string },
    response: ServerResponse,
    effect: Effect.Effect<A, E>,
    success: (value: A) => Answer,
    traced: boolean
  ) => void
  /** Answers at once, without running anything (an answer the route already holds). */
  readonly respond: (response: ServerResponse, answer: Answer) => void
}

/** Built inside the layer whose runtime the routes run on. */
export const makeFastAnswers: Effect.Effect<FastAnswers, never, AppConfig> = Effect.gen(function*() {
  const runtime = yield* Effect.runtime<never>()
  const traceRatio = (yield* AppConfig).observability.hotRouteTraceRatio
  const runTraced = Runtime.runFork(runtime)
  const runUntraced = Runtime.runFork(Runtime.setFiberRef(runtime, FiberRef.currentTracerEnabled, false))

  const answerOf = <A, E>(exit: Exit.Exit<A, E>, success: (value: A) => Answer): Answer =>
    Exit.isSuccess(exit) ? success(exit.value) : Option.getOrElse(failureAnswer(exit.cause), () => {
      runUntraced(Effect.logError("Unhandled failure while serving a request", exit.cause))
      return internalError
    })

  const run: FastAnswers["run"] = (route, response, effect, success, traced) => {
    if (!traced) {
      runUntraced(effect).addObserver((exit) => write(response, answerOf(exit, success)))
      return
    }
    const answered = Effect.exit(effect).pipe(
      Effect.map((exit) => answerOf(exit, success)),
      Effect.tap((answer) => Effect.annotateCurrentSpan("http.response.status_code", answer.status)),
      Effect.withSpan(`http.server ${route.method}`, {
        kind: "server",
        attributes: { "http.request.method": route.method, "url.path": route.path, "http.route": route.path }
      })
    )
    runTraced(answered).addObserver((exit) => write(response, Exit.isSuccess(exit) ? exit.value : interrupted))
  }

  return {
    sample: () => traceRatio > 0 && Math.random() < traceRatio,
    run,
    respond: write
  }
})
