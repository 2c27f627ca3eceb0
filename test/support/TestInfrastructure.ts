/**
 * What every test that talks to the service runs on: the swappable infrastructure — its own
 * Postgres database (cloned from the run's template), its own key prefix on the run's Valkey, the
 * real configuration read from a map, and the availability mirror's store on that connection
 * (Valkey, in memory, or failing: an outage). The services wire themselves on top of it, exactly
 * as in the app: a test provides `SomeService.Default` (or `TestServices`) over this layer.
 */
import type { SqlClient } from "@effect/sql"
import type { PgClient } from "@effect/sql-pg"
import { Layer } from "effect"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { Availability } from "../../src/availability/Availability.js"
import {
  AvailabilityStoreLive,
  FailingAvailabilityStoreLive,
  InMemoryAvailabilityStoreLive
} from "../../src/availability/AvailabilityStoreLive.js"
import type { BeaconCache } from "../../src/availability/beaconCache/BeaconCache.js"
import { Beacon } from "../../src/availability/Beacon.js"
import { Capacity } from "../../src/availability/Capacity.js"
import { Heartbeat } from "../../src/availability/Heartbeat.js"
import { MirrorSeeder } from "../../src/availability/mirror/MirrorSeeder.js"
import { MirrorRepair } from "../../src/availability/MirrorRepair.js"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import type { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"
import type { MirrorInspector } from "../../src/availability/store/MirrorInspector.js"
import type { AppConfig } from "../../src/config/AppConfig.js"
import { Dashboard } from "../../src/controlCenter/Dashboard.js"
import { StreamHub } from "../../src/events/StreamHub.js"
import { SessionEventsLive } from "../../src/events/ValkeyEventTransport.js"
import { MitraAccounts } from "../../src/controlCenter/MitraAccounts.js"
import { Transactions } from "../../src/db/Repository.js"
import { MitrasRepo } from "../../src/mitras/MitrasRepo.js"
import { ChatSessionsRepo } from "../../src/sessions/ChatSessionsRepo.js"
import { Pairing } from "../../src/sessions/Pairing.js"
import { Payments } from "../../src/sessions/Payments.js"
import { SessionActions } from "../../src/sessions/SessionActions.js"
import { SessionEvents } from "../../src/sessions/SessionEvents.js"
import { SessionQueries } from "../../src/sessions/SessionQueries.js"
import { SessionRerouting } from "../../src/sessions/SessionRerouting.js"
import { SessionTimers } from "../../src/sessions/SessionTimers.js"
import { AvailabilitySettings } from "../../src/settings/AvailabilitySettings.js"
import type { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { TestConfigLive } from "./TestConfig.js"
import { TestDatabaseLive } from "./TestDatabase.js"
import { testValkeyConnection, TestValkeyLive } from "./TestValkey.js"

/** The mirror's infrastructure: store, inspector and beacon cache, on one connection or one memory. */
export type MirrorLayer = Layer.Layer<AvailabilityStore | MirrorInspector | BeaconCache, never, ValkeyConnection>

export type StoreChoice = "valkey" | "memory" | "failing"

export interface InfrastructureOptions {
  /** Environment variables over the test defaults (`TestConfig.ts`). */
  readonly env?: Record<string, string>
  /** Variables left out of the environment, test defaults included (e.g. `PAYMENT_WEBHOOK_SECRET`). */
  readonly unset?: ReadonlyArray<string>
  readonly database?: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, unknown>
  readonly valkey?: Layer.Layer<ValkeyConnection, unknown>
  readonly config?: Layer.Layer<AppConfig>
  /** The mirror: the one `valkey` selects by default, or a chosen one (an outage, memory, a test's wrapper). */
  readonly store?: StoreChoice | MirrorLayer
  /**
   * The event transport: Valkey pub/sub as in the app (asynchronous), or "in-process" for a test
   * that reads `SessionEvents` itself and needs each event there the moment it is published.
   */
  readonly events?: "valkey" | "in-process"
}

const mirrorLayer = (store: StoreChoice | MirrorLayer | undefined): MirrorLayer =>
  store === undefined || store === "valkey"
    ? AvailabilityStoreLive
    : store === "memory"
    ? InMemoryAvailabilityStoreLive
    : store === "failing"
    ? FailingAvailabilityStoreLive
    : store

export const TestInfrastructure = (options: InfrastructureOptions = {}) =>
  Layer.mergeAll(mirrorLayer(options.store), options.events === "in-process" ? SessionEvents.InProcess : SessionEventsLive).pipe(
    Layer.provideMerge(Layer.mergeAll(
      options.database ?? TestDatabaseLive,
      options.valkey ?? TestValkeyLive,
      options.config ?? TestConfigLive(options.env, options.unset)
    )),
    Layer.orDie
  )

/**
 * The services tests reach into, each with its own dependencies. Within one build every service
 * is one instance, shared with the app's handlers when built beside them (`TestApp`).
 */
export const TestServices = Layer.mergeAll(
  Availability.Default,
  Beacon.Default,
  MitraStatus.Default,
  Heartbeat.Default,
  Capacity.Default,
  MirrorSeeder.Default,
  MirrorRepair.Default,
  AvailabilitySettings.Default,
  MitrasRepo.Default,
  Transactions.Default,
  MitraAccounts.Default,
  Dashboard.Default,
  AccessTokens.Default,
  ChatSessionsRepo.Default,
  Pairing.Default,
  SessionActions.Default,
  SessionQueries.Default,
  SessionTimers.Default,
  SessionRerouting.Default,
  Payments.Default,
  StreamHub.Default
)

/** Services and infrastructure together: the usual service-level test's layer. */
export const TestServicesLive = (options: InfrastructureOptions = {}) =>
  TestServices.pipe(Layer.provideMerge(TestInfrastructure(options)), Layer.orDie)

/**
 * One more instance of the service — its own Valkey connection (on `keyPrefix`, which the test
 * shares between instances), its own store and services — over the Postgres and configuration of
 * the test's context. Two of these are two instances of the service on one database and one Valkey.
 */
export const serviceInstance = <A = never, E = never, R = never>(options: {
  readonly keyPrefix: string
  readonly store?: StoreChoice | MirrorLayer
  /** Extra services of the instance (built in the same graph, so they share its services). */
  readonly services?: Layer.Layer<A, E, R>
}) =>
  Layer.build(
    Layer.mergeAll(TestServices, options.services ?? (Layer.empty as unknown as Layer.Layer<A, E, R>)).pipe(
      Layer.provideMerge(Layer.mergeAll(mirrorLayer(options.store), SessionEventsLive)),
      Layer.provideMerge(testValkeyConnection({ keyPrefix: options.keyPrefix }))
    )
  )
