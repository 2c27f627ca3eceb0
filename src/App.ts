/**
 * The whole service as one layer, built in the start-up order of ARCHITECTURE.md section 3:
 * configuration → database → migrations → (timers, mirror seed) → sweeps forked → HTTP listener.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { AccessTokens } from "./auth/AccessTokens.js"
import { AuthenticationLive } from "./auth/AuthenticationLive.js"
import { AuthHttpLive } from "./auth/AuthHttp.js"
import { BootstrapAdminLive } from "./auth/BootstrapAdmin.js"
import { Logins } from "./auth/Logins.js"
import { AccountMirrorLive } from "./availability/AccountMirror.js"
import { AvailabilityHttpLive, DashboardHttpLive } from "./availability/AvailabilityHttp.js"
import { AvailabilityServicesLive } from "./availability/AvailabilityLive.js"
import { AvailabilityStoreLive } from "./availability/AvailabilityStoreLive.js"
import { MirrorReseedLive, seedAtStartup } from "./availability/MirrorSeeder.js"
import { ConfigEditor } from "./controlCenter/ConfigEditor.js"
import { ConfigHttpLive } from "./controlCenter/ConfigHttp.js"
import { CcUsers } from "./controlCenter/CcUsers.js"
import { CcUsersHttpLive } from "./controlCenter/CcUsersHttp.js"
import { MitraAccounts } from "./controlCenter/MitraAccounts.js"
import { MitrasHttpLive } from "./controlCenter/MitrasHttp.js"
import { Roles } from "./controlCenter/Roles.js"
import { RolesHttpLive } from "./controlCenter/RolesHttp.js"
import { AppConfig } from "./config/AppConfig.js"
import { DatabaseLive } from "./db/Database.js"
import { MigrationsLive } from "./db/Migrations.js"
import { Api } from "./Api.js"
import { HttpServerLive } from "./http/HttpServerLive.js"
import { MitraHttpLive } from "./mitraApp/MitraHttp.js"
import { LoggingLive } from "./observability/Logging.js"
import { TracingLive } from "./observability/Tracing.js"
import { OpsHttpLive } from "./ops/OpsHttp.js"
import { ReadinessCheck } from "./ops/ReadinessCheck.js"
import { SessionRerouting } from "./sessions/SessionRerouting.js"
import { SessionTimers } from "./sessions/SessionTimers.js"
import { SweepsLive } from "./sweeps/SweepsLive.js"
import { ValkeyConnection } from "./valkey/ValkeyConnection.js"

/** Postgres, the Valkey connection, and the availability store on it (Valkey, or in memory). */
export const InfrastructureLive = AvailabilityStoreLive.pipe(
  Layer.provideMerge(Layer.mergeAll(DatabaseLive, ValkeyConnection.layer))
)

/** Logins and the control center (src/auth, src/controlCenter). */
export const IdentityServicesLive = Layer.mergeAll(
  Logins.Default,
  MitraAccounts.Default,
  ConfigEditor.Default,
  Roles.Default,
  CcUsers.Default
).pipe(
  // What follows a committed (de)activation: the availability mirror and the rerouting hook
  // (see src/controlCenter/MitraAccountFollowUp.ts, src/availability/AccountMirror.ts).
  Layer.provide(AccountMirrorLive)
)

/** The domain services the handlers call, and the authentication middleware. */
export const ServicesLive = Layer.mergeAll(ReadinessCheck.Default, AuthenticationLive, IdentityServicesLive).pipe(
  Layer.provideMerge(AvailabilityServicesLive),
  // Hooks the sessions part fills in (timer restore at start-up, rerouting of a departed mitra's sessions).
  Layer.provideMerge(Layer.mergeAll(SessionTimers.Default, SessionRerouting.Default)),
  Layer.provideMerge(AccessTokens.Default)
)

/** Every group's handlers, bound to the API spec. */
export const ApiLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide(OpsHttpLive),
  Layer.provide([AuthHttpLive, MitrasHttpLive, ConfigHttpLive, RolesHttpLive, CcUsersHttpLive]),
  Layer.provide([MitraHttpLive, AvailabilityHttpLive, DashboardHttpLive])
)

/** Session timers restored, then the availability mirror seeded from Postgres. */
const RestoreTimersThenSeedLive = Layer.effectDiscard(
  Effect.flatMap(SessionTimers, (timers) => timers.restoreActiveTimers()).pipe(Effect.zipRight(seedAtStartup))
)

/**
 * Work that must finish before the listener binds: migrations, then the bootstrap admin and
 * (timers → mirror seed), then the reseed-on-reconnect fiber.
 */
export const StartupLive = Layer.mergeAll(
  BootstrapAdminLive,
  MirrorReseedLive.pipe(Layer.provide(RestoreTimersThenSeedLive))
).pipe(Layer.provide(MigrationsLive))

/**
 * Start-up work, then the four background sweeps (auto-offline, heartbeat mirror, reseed,
 * auth-session pruning; `src/sweeps`): their loops are forked once the seed is done, tick first one
 * cadence later, and are interrupted on shutdown.
 */
export const BackgroundLive = SweepsLive.pipe(Layer.provideMerge(StartupLive))

/** Given infrastructure and configuration: the running service. */
export const ServerLive = HttpServerLive(ApiLive).pipe(
  Layer.provide(BackgroundLive),
  Layer.provide(ServicesLive)
)

export const AppLive = ServerLive.pipe(
  Layer.provide(InfrastructureLive),
  Layer.provide(TracingLive),
  Layer.provide(LoggingLive),
  Layer.provide(AppConfig.layer)
)
