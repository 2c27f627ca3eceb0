/**
 * The whole service as one layer, built in the start-up order of ARCHITECTURE.md section 3:
 * configuration → database → migrations → (timers, mirror seed) → HTTP listener.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Layer } from "effect"
import { AccessTokens } from "./auth/AccessTokens.js"
import { AuthenticationLive } from "./auth/Authentication.js"
import { AuthHttpLive } from "./auth/AuthHttp.js"
import { BootstrapAdminLive } from "./auth/BootstrapAdmin.js"
import { Logins } from "./auth/Logins.js"
import { ConfigEditor } from "./controlCenter/ConfigEditor.js"
import { ConfigHttpLive } from "./controlCenter/ConfigHttp.js"
import { CcUsers } from "./controlCenter/CcUsers.js"
import { CcUsersHttpLive } from "./controlCenter/CcUsersHttp.js"
import { MitraAccounts } from "./controlCenter/MitraAccounts.js"
import { MitraActivationFollowUp } from "./controlCenter/MitraActivationFollowUp.js"
import { MitrasHttpLive } from "./controlCenter/MitrasHttp.js"
import { Roles } from "./controlCenter/Roles.js"
import { RolesHttpLive } from "./controlCenter/RolesHttp.js"
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

/** Logins and the control center (src/auth, src/controlCenter). */
export const IdentityServicesLive = Layer.mergeAll(
  Logins.Default,
  MitraAccounts.Default,
  ConfigEditor.Default,
  Roles.Default,
  CcUsers.Default
).pipe(
  // What follows a committed (de)activation: the availability part swaps `none` for its Valkey
  // mirror and rerouting (see src/controlCenter/MitraActivationFollowUp.ts).
  Layer.provide(MitraActivationFollowUp.none)
)

/** The domain services the handlers call, and the authentication middleware. */
export const ServicesLive = Layer.mergeAll(ReadinessCheck.Default, AppSettings.Default, AuthenticationLive, IdentityServicesLive).pipe(
  Layer.provideMerge(AccessTokens.layer)
)

/** Every group's handlers, bound to the API spec. */
export const ApiLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide(OpsHttpLive),
  Layer.provide([AuthHttpLive, MitrasHttpLive, ConfigHttpLive, RolesHttpLive, CcUsersHttpLive])
)

/** Work that must finish before the listener binds. */
export const StartupLive = BootstrapAdminLive.pipe(Layer.provide(MigrationsLive))

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
