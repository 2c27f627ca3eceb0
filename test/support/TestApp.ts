/**
 * The whole service for an HTTP test: the real API, its handlers and start-up work, served on a
 * free port, with an `HttpClient` pointed at it. Infrastructure is the test's own database and
 * Valkey key prefix unless the test passes others (a stopped server, in-memory mode, an outage…).
 * `TestServices` are built beside the handlers, so a test reaching into a service (`yield*
 * MitraAccounts`) gets the very instance the routes use.
 */
import { HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Layer } from "effect"
import { ApiLive, StartupLive } from "../../src/App.js"
import { listener, serveApi } from "../../src/http/HttpServerLive.js"
import { LoggingLive } from "../../src/observability/Logging.js"
import { type InfrastructureOptions, TestInfrastructure, TestServices } from "./TestInfrastructure.js"

export type TestAppOptions = InfrastructureOptions

/** The app on a test server: provides `HttpClient` (relative URLs reach it), the services and the infrastructure. */
export const TestApp = (options: TestAppOptions = {}) =>
  // The app's own listener (fast routes included) on a free port; the client on top of it.
  HttpServer.layerTestClient.pipe(
    Layer.provide(NodeHttpClient.layerWithoutAgent),
    Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false })),
    Layer.provideMerge(serveApi(ApiLive, listener({ port: 0, host: "127.0.0.1" }))),
    Layer.provide(StartupLive),
    Layer.provideMerge(TestServices),
    Layer.provide(LoggingLive),
    Layer.provideMerge(TestInfrastructure(options)),
    Layer.orDie
  )
