/**
 * The whole service for an HTTP test: the real API, services and start-up work, served on a free
 * port, with an `HttpClient` pointed at it. Infrastructure is the test's own isolated database and
 * Valkey key prefix unless the test passes others (a stopped server, the in-memory mode, ...).
 */
import { NodeHttpServer } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import type { PgClient } from "@effect/sql-pg"
import { Layer } from "effect"
import { ApiLive, ServicesLive, StartupLive } from "../../src/App.js"
import type { AvailabilityStore } from "../../src/availability/AvailabilityStore.js"
import { AvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import type { AppConfig } from "../../src/config/AppConfig.js"
import { serveApi } from "../../src/http/HttpServerLive.js"
import { LoggingLive } from "../../src/observability/Logging.js"
import type { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { TestConfigLive } from "./TestConfig.js"
import { TestDatabaseLive } from "./TestDatabase.js"
import { TestValkeyLive } from "./TestValkey.js"

export interface TestAppOptions {
  readonly env?: Record<string, string>
  readonly database?: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, unknown>
  readonly valkey?: Layer.Layer<ValkeyConnection, unknown>
  readonly config?: Layer.Layer<AppConfig>
  /** The availability store; by default the one `valkey` selects (e.g. the failing store for an outage). */
  readonly store?: Layer.Layer<AvailabilityStore, unknown, ValkeyConnection>
}

/** The infrastructure and configuration a test app runs on (exposed to the test too). */
export const testInfrastructure = (options: TestAppOptions = {}) =>
  (options.store ?? AvailabilityStoreLive).pipe(
    Layer.provideMerge(Layer.mergeAll(
      options.database ?? TestDatabaseLive,
      options.valkey ?? TestValkeyLive,
      options.config ?? TestConfigLive(options.env)
    )),
    Layer.orDie
  )

/** The app on a test server: provides `HttpClient` (relative URLs reach it) and the infrastructure. */
export const TestApp = (options: TestAppOptions = {}) =>
  serveApi(ApiLive).pipe(
    Layer.provide(StartupLive),
    Layer.provideMerge(ServicesLive),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provide(LoggingLive),
    Layer.provideMerge(testInfrastructure(options)),
    Layer.orDie
  )
