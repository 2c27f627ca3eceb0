/**
 * The whole service as one layer, built in the start-up order of ARCHITECTURE.md section 3:
 * configuration → database → migrations → (timers, mirror seed) → HTTP listener.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Layer } from "effect"
import { AccessTokens } from "./auth/AccessTokens.js"
import { AuthenticationLive } from "./auth/Authentication.js"
import { AppConfig } from "./config/AppConfig.js"
import { DatabaseLive } from "./db/Database.js"
import { MigrationsLive } from "./db/Migrations.js"
import { Api } from "./http/Api.js"
import { HttpServerLive } from "./http/HttpServerLive.js"
import { LoggingLive } from "./observability/Logging.js"
import { TracingLive } from "./observability/Tracing.js"
import { OpsHttpLive } from "./ops/OpsHttp.js"
import { ReadinessCheck } from "./ops/ReadinessCheck.js"
import { AppSettings } from "./settings/AppSettings.js"
import { ValkeyConnection } from "./valkey/ValkeyConnection.js"

/** Postgres and the Valkey connection (or its in-memory stand-in). */
export const InfrastructureLive = Layer.mergeAll(DatabaseLive, ValkeyConnection.layer)

/** The domain services the handlers call, and the authentication middleware. */
export const ServicesLive = Layer.mergeAll(ReadinessCheck.Default, AppSettings.Default, AuthenticationLive).pipe(
  Layer.provideMerge(AccessTokens.layer)
)

/** Every group's handlers, bound to the API spec. */
export const ApiLive = HttpApiBuilder.api(Api).pipe(Layer.provide(OpsHttpLive))

/** Work that must finish before the listener binds. */
export const StartupLive = MigrationsLive

/** Given infrastructure and configuration: the running service. */
export const ServerLive = HttpServerLive(ApiLive).pipe(
  Layer.provide(StartupLive),
  Layer.provide(ServicesLive)
)

export const AppLive = ServerLive.pipe(
  Layer.provide(InfrastructureLive),
  Layer.provide(TracingLive),
  Layer.provide(LoggingLive),
  Layer.provide(AppConfig.layer)
)
