/**
 * The whole service as one layer. Each part wires itself (its services list their dependencies,
 * each HTTP group provides what its handlers use); what is composed here is only what can be
 * swapped — configuration and infrastructure — and the start-up order of ARCHITECTURE.md
 * section 3: configuration → database → migrations → (bootstrap admin; timers → mirror seed) →
 * the mirror's catch-up → the sweeps → the HTTP listener.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "./Api.js"
import { AuthHttpLive } from "./auth/AuthHttp.js"
import { BootstrapAdminLive } from "./auth/BootstrapAdmin.js"
import { AccessTokens } from "./auth/AccessTokens.js"
import { AvailabilityHttpLive } from "./availability/AvailabilityHttp.js"
import { Beacon } from "./availability/Beacon.js"
import { makeBeaconFastRoute } from "./availability/BeaconFastRoute.js"
import { Heartbeat } from "./availability/Heartbeat.js"
import { AvailabilityStoreLive } from "./availability/AvailabilityStoreLive.js"
import { MirrorSeeder } from "./availability/mirror/MirrorSeeder.js"
import { AppConfig } from "./config/AppConfig.js"
import { CcUsersHttpLive } from "./controlCenter/CcUsersHttp.js"
import { ConfigHttpLive } from "./controlCenter/ConfigHttp.js"
import { DashboardHttpLive } from "./controlCenter/DashboardHttp.js"
import { MitrasHttpLive } from "./controlCenter/MitrasHttp.js"
import { RolesHttpLive } from "./controlCenter/RolesHttp.js"
import { DatabaseLive } from "./db/Database.js"
import { SessionEventsLive } from "./events/ValkeyEventTransport.js"
import { MigrationsLive } from "./db/Migrations.js"
import { FastRoutes } from "./http/FastRoutes.js"
import { HttpServerLive } from "./http/HttpServerLive.js"
import { ChatSessionsHttpLive } from "./controlCenter/ChatSessionsHttp.js"
import { CustomerSessionsHttpLive } from "./customerApp/CustomerSessionsHttp.js"
import { makeHeartbeatFastRoute } from "./mitraApp/HeartbeatFastRoute.js"
import { MitraHttpLive } from "./mitraApp/MitraHttp.js"
import { MitraSessionsHttpLive } from "./mitraApp/MitraSessionsHttp.js"
import { PaymentsHttpLive } from "./sessions/PaymentsHttp.js"
import { LoggingLive } from "./observability/Logging.js"
import { TracingLive } from "./observability/Tracing.js"
import { OpsHttpLive } from "./ops/OpsHttp.js"
import { SessionTimers } from "./sessions/SessionTimers.js"
import { MirrorCatchUpLive } from "./sweeps/MirrorCatchUp.js"
import { SweepsLive } from "./sweeps/SweepsLive.js"
import { ValkeyConnection } from "./valkey/ValkeyConnection.js"

/**
 * Postgres, the Valkey connection, the availability mirror's store on it (Valkey, or memory), and
 * the delivery of session events between instances (Valkey pub/sub, or within the process).
 */
export const InfrastructureLive = Layer.mergeAll(AvailabilityStoreLive, SessionEventsLive).pipe(
  Layer.provideMerge(Layer.mergeAll(DatabaseLive, ValkeyConnection.layer))
)

/** Every group's handlers, bound to the API spec. */
const ApiHandlersLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide([
    OpsHttpLive,
    AuthHttpLive,
    MitrasHttpLive,
    ConfigHttpLive,
    RolesHttpLive,
    CcUsersHttpLive,
    DashboardHttpLive,
    MitraHttpLive,
    AvailabilityHttpLive,
    MitraSessionsHttpLive,
    CustomerSessionsHttpLive,
    PaymentsHttpLive,
    ChatSessionsHttpLive
  ])
)

/**
 * The hot routes on the fast path (`http/FastRoutes.ts`), on the very service instances the
 * API's handlers use (the same memoised layers).
 */
const FastRoutesLive = Layer.effect(FastRoutes, Effect.all([makeHeartbeatFastRoute, makeBeaconFastRoute])).pipe(
  Layer.provide([Heartbeat.Default, Beacon.Default, AccessTokens.Default])
)

/** The API and its fast routes. */
export const ApiLive = Layer.merge(ApiHandlersLive, FastRoutesLive)

/** Session timers restored, then the availability mirror seeded from Postgres (a failure is left to the catch-up). */
const RestoreTimersThenSeedLive = Layer.effectDiscard(
  Effect.gen(function*() {
    yield* (yield* SessionTimers).restoreActiveTimers()
    yield* (yield* MirrorSeeder).reseed("start-up")
  })
).pipe(Layer.provide([SessionTimers.Default, MirrorSeeder.Default]))

/**
 * Work that must finish before the listener binds: migrations, then the bootstrap admin and
 * (timers → mirror seed), then the mirror's catch-up loop (reseed on every Valkey `ready`).
 */
export const StartupLive = Layer.mergeAll(
  BootstrapAdminLive,
  MirrorCatchUpLive.pipe(Layer.provide(RestoreTimersThenSeedLive), Layer.provide(MirrorSeeder.Default))
).pipe(Layer.provide(MigrationsLive))

/**
 * Start-up work, then the background sweeps (`src/sweeps`): their loops are forked once the seed
 * is done, tick first one cadence later, and are interrupted on shutdown.
 */
export const BackgroundLive = SweepsLive.pipe(Layer.provideMerge(StartupLive))

/** Given infrastructure and configuration: the running service. */
export const ServerLive = HttpServerLive(ApiLive).pipe(Layer.provide(BackgroundLive))

export const AppLive = ServerLive.pipe(
  Layer.provide(InfrastructureLive),
  Layer.provide(TracingLive),
  Layer.provide(LoggingLive),
  Layer.provide(AppConfig.layer)
)
