/**
 * The HTTP listener: Node's server with the fast routes on its request callback (`FastRoutes.ts`)
 * and, behind them, the API, its generated documentation, JSON errors, and per-request tracing
 * switched off on the hot and probe routes (it costs more CPU than the handlers themselves).
 */
import { type HttpApi, HttpApiBuilder, HttpApiSwagger, HttpMiddleware, type HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import type { ListenOptions } from "node:net"
import { AppConfig } from "../config/AppConfig.js"
import { dispatchTo, FastRoutes } from "./FastRoutes.js"
import { JsonErrorResponsesLive } from "./JsonErrorResponses.js"
import { RequestBodyGuardLive } from "./RequestBodyGuard.js"
import { TooManyRequestsResponsesLive } from "./TooManyRequestsResponses.js"

/** Routes polled or pinged so often that a span per request is not worth its cost. */
export const untracedUrls = [
  "/healthz",
  "/readyz",
  "/metrics",
  "/api/availability",
  "/api/mitra/status/heartbeat"
]

/**
 * The hot routes, and the event streams: a stream is one long request, and a span open for its
 * whole life says nothing the stream metrics do not.
 */
const isUntraced = (url: string) => {
  const path = url.split("?", 1)[0]!
  return untracedUrls.includes(path) || (path.endsWith("/events") && (path.startsWith("/api/mitra/") || path.startsWith("/api/chat-sessions/")))
}

/**
 * Serves `apiLive` (the API with every group's handlers, and the fast routes) on `listener`. The
 * API — and every service its handlers use — is built before the listener binds, so no connection
 * is accepted that nothing could answer. Every request the fast routes leave passes the body
 * guard (size, media type, nesting) before any route, and every failure is answered as JSON.
 */
export const serveApi = <E, R, E2, R2>(
  apiLive: Layer.Layer<HttpApi.Api | FastRoutes, E, R>,
  listener: Layer.Layer<HttpServer.HttpServer | HttpRouter.HttpRouter.DefaultServices, E2, R2>
) =>
  HttpApiBuilder.serve().pipe(
    HttpMiddleware.withTracerDisabledWhen((request) => isUntraced(request.url)),
    Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide(JsonErrorResponsesLive),
    Layer.provide(TooManyRequestsResponsesLive),
    Layer.provide(RequestBodyGuardLive),
    Layer.provideMerge(listener),
    Layer.provide(apiLive)
  )

/**
 * Node's server on `options`, serving the fast routes itself and everything else through the
 * Effect handler of the app it is given. Binds when built; the API must be built before it.
 */
export const listener = (options: ListenOptions) =>
  Layer.mergeAll(
    Layer.scoped(
      HttpServer.HttpServer,
      Effect.gen(function*() {
        const routes = yield* FastRoutes
        const server = createServer()
        const bound = yield* NodeHttpServer.make(() => server, options)
        return HttpServer.make({
          address: bound.address,
          serve: (app, middleware) =>
            Effect.gen(function*() {
              const api = yield* (middleware === undefined ? NodeHttpServer.makeHandler(app) : NodeHttpServer.makeHandler(app, middleware))
              const onRequest = dispatchTo(routes, api)
              yield* Effect.addFinalizer(() => Effect.sync(() => server.off("request", onRequest)))
              server.on("request", onRequest)
            })
        })
      })
    ),
    NodeHttpServer.layerContext
  )

/** The real listener on `HOST:PORT`, logging its address once bound. */
export const NodeServerLive = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ http }) => listener({ port: http.port, host: http.host }))
)

export const HttpServerLive = <E, R>(apiLive: Layer.Layer<HttpApi.Api | FastRoutes, E, R>) =>
  serveApi(apiLive, NodeServerLive).pipe(HttpServer.withLogAddress)
