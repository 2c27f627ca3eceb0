/**
 * API-level middleware between the socket and every route, known or not: a request body is a JSON
 * document within the limits, read here once, or the request is answered at once (413, 415, 400)
 * without reaching a route. The rules and their reasons: docs/security.md ("Request limits").
 */
import {
  Headers,
  type HttpApp,
  HttpApiBuilder,
  HttpApiSchema,
  HttpMethod,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Either } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { readBodyUpTo } from "./BodyReader.js"
import { clip } from "./BoundedText.js"
import { BufferedRequest } from "./BufferedRequest.js"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "./HttpErrors.js"
import { isJsonMediaType, isNestedDeeperThan, maxJsonNesting, parseJson } from "./JsonBody.js"

type RefusalClass = typeof BadRequest | typeof PayloadTooLarge | typeof UnsupportedMediaType

/**
 * The JSON error answer, given without a route. When the body is left unread the connection is
 * closed after the answer: the rest of the body is not worth reading.
 */
const refuse = (refusal: RefusalClass, message: string, body: "read" | "unread") =>
  Effect.succeed(
    HttpServerResponse.unsafeJson(
      { _tag: refusal._tag, message },
      {
        status: HttpApiSchema.getStatusError(refusal),
        headers: body === "unread" ? Headers.fromInput({ connection: "close" }) : Headers.empty
      }
    )
  )

const tooLarge = (maxBodyBytes: number) => `The request body is larger than the limit of ${maxBodyBytes} bytes`

/** Why a body-taking request is refused for its media type, if it is. */
const mediaTypeProblem = (headers: Headers.Headers, hasBody: boolean): string | undefined => {
  const contentType = headers["content-type"]
  if (contentType === undefined) {
    return hasBody ? "A request body must be JSON, sent with content-type: application/json" : undefined
  }
  if (!isJsonMediaType(contentType)) {
    return `Request bodies must be JSON (content-type: application/json), not ${JSON.stringify(clip(contentType, 64))}`
  }
  const encoding = headers["content-encoding"]
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    return "Compressed request bodies are not accepted; send plain JSON"
  }
  return undefined
}

/** Runs `app` on the request with its body already read and parsed. */
const withBody = <E, R>(
  app: HttpApp.Default<E, R>,
  request: HttpServerRequest.HttpServerRequest,
  bytes: Buffer,
  parsed: unknown
) => Effect.provideService(app, HttpServerRequest.HttpServerRequest, new BufferedRequest(request, bytes, parsed))

/** The middleware, for bodies of at most `maxBodyBytes`. */
export const guardRequestBodies = (maxBodyBytes: number) => <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const headers = request.headers
    const declaredLength = headers["content-length"] === undefined ? undefined : Number(headers["content-length"])
    if (declaredLength !== undefined && declaredLength > maxBodyBytes) {
      return refuse(PayloadTooLarge, tooLarge(maxBodyBytes), "unread")
    }
    // GET, HEAD and OPTIONS bodies are never read by the API (Node discards them).
    if (!HttpMethod.hasBody(request.method)) return app
    const hasBody = (declaredLength ?? 0) > 0 || headers["transfer-encoding"] !== undefined
    const problem = mediaTypeProblem(headers, hasBody)
    if (problem !== undefined) return refuse(UnsupportedMediaType, problem, hasBody ? "unread" : "read")
    // Neither a length nor chunks: HTTP/1.1 says there is no body (the heartbeat's case).
    if (!hasBody) return withBody(app, request, Buffer.alloc(0), null)
    return readBodyUpTo(NodeHttpServerRequest.toIncomingMessage(request), maxBodyBytes).pipe(
      Effect.matchEffect({
        onFailure: (failure) =>
          failure._tag === "BodyTooLarge"
            ? refuse(PayloadTooLarge, tooLarge(maxBodyBytes), "unread")
            : refuse(BadRequest, "The request body could not be read", "unread"),
        onSuccess: (bytes) => {
          const text = bytes.toString("utf8")
          if (isNestedDeeperThan(text, maxJsonNesting)) {
            return refuse(BadRequest, `The JSON body is nested more than ${maxJsonNesting} levels deep`, "read")
          }
          const parsed = parseJson(text)
          if (Either.isLeft(parsed)) {
            return refuse(BadRequest, "The request body could not be read as JSON", "read")
          }
          return withBody(app, request, bytes, parsed.right)
        }
      })
    )
  })

export const RequestBodyGuardLive = HttpApiBuilder.middleware(
  Effect.map(AppConfig, ({ http }) => guardRequestBodies(http.maxBodyBytes))
)
