/**
 * Helpers for the availability tests: the availability services over a chosen store, fixtures
 * that mirror what they write to Postgres (as the seed would), chat-session fixtures, tokens, and
 * a raw Valkey client for asserting on the contract keys themselves.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Tracer } from "effect"
import { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { AvailabilityServicesLive } from "../../src/availability/AvailabilityLive.js"
import { AvailabilityStore } from "../../src/availability/AvailabilityStore.js"
import { AvailabilityStoreLive, FailingAvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { MirrorSeeder } from "../../src/availability/MirrorSeeder.js"
import { SessionRerouting } from "../../src/sessions/SessionRerouting.js"
import { createCustomer, createMitra, type CreateMitraOptions } from "./fixtures.js"
import { TestConfigLive } from "./TestConfig.js"
import { TestDatabaseLive } from "./TestDatabase.js"
import { TestValkeyLive } from "./TestValkey.js"

/** The availability services over `store`, needing Postgres, config and a Valkey connection from outside. */
export const availabilityServices = <E, R>(store: Layer.Layer<AvailabilityStore, E, R>) =>
  AvailabilityServicesLive.pipe(
    Layer.provideMerge(store),
    Layer.provideMerge(SessionRerouting.Default)
  )

/** Postgres (own database), config, and a Valkey connection (own prefix on the run's server) for service tests. */
export const availabilityInfrastructure = (env: Record<string, string> = {}) =>
  Layer.mergeAll(TestDatabaseLive, TestConfigLive(env), TestValkeyLive, AccessTokens.Default.pipe(Layer.provide(TestConfigLive(env))))

/** Everything a service-level test needs, on the store `AvailabilityStoreLive` picks (Valkey). */
export const AvailabilityTestLive = (options: { env?: Record<string, string>; store?: "live" | "failing" } = {}) =>
  availabilityServices(options.store === "failing" ? FailingAvailabilityStoreLive : AvailabilityStoreLive).pipe(
    Layer.provideMerge(availabilityInfrastructure(options.env)),
    Layer.orDie
  )

/** Rebuilds the mirror from Postgres (what start-up and every reconnect do). */
export const seedMirror = Effect.flatMap(MirrorSeeder, (seeder) => seeder.seedFromPostgres()).pipe(Effect.orDie)

/** A mitra in Postgres (`createMitra`) and in the mirror, as `seedFromPostgres` would mirror it. */
export const createMirroredMitra = (options: CreateMitraOptions = {}) =>
  Effect.gen(function*() {
    const row = yield* createMitra(options)
    const store = yield* AvailabilityStore
    const sql = yield* SqlClient.SqlClient
    const [status] = yield* sql<{ lastHeartbeatAt: Date | null }>`
      SELECT last_heartbeat_at FROM mitra_online_status WHERE mitra_id = ${row.id}
    `.pipe(Effect.orDie)
    const capacity = { liveSessions: 0, maxConcurrentSessions: row.maxConcurrentSessions }
    yield* store.setCapacity(row.id, capacity)
    if (row.isOnline && status?.lastHeartbeatAt) yield* store.markOnline(row.id, status.lastHeartbeatAt, capacity, 0)
    if (!row.isActive) yield* store.setDeactivated(row.id, true, 0)
    return row
  }).pipe(Effect.orDie)

export type SessionStatus =
  | "searching"
  | "pending_payment"
  | "active"
  | "ended"
  | "expired"
  | "cancelled"
  | "unmatched"
  | "rerouted"

/** A chat session written straight to Postgres (a fixture: the sessions code does not exist yet). */
export const insertSession = (options: { readonly mitraId: string | null; readonly status: SessionStatus }) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const customer = yield* createCustomer()
    const id = randomUUID()
    yield* sql`
      INSERT INTO chat_sessions (id, customer_id, mitra_id, status)
      VALUES (${id}, ${customer.id}, ${options.mitraId}, ${options.status})
    `
    return id
  }).pipe(Effect.orDie)

export const setSessionStatus = (sessionId: string, status: SessionStatus) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE chat_sessions SET status = ${status} WHERE id = ${sessionId}`).pipe(
    Effect.asVoid,
    Effect.orDie
  )

/** An access token of a mitra (without the login round trip). */
export const mitraToken = (mitraId: string) =>
  Effect.map(Effect.flatMap(AccessTokens, (tokens) => tokens.issue("mitra", mitraId)), (t) => t.accessToken)

/** A plain ioredis client to `url`, closed with the scope: for asserting on raw keys. */
export const rawValkey = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
      redis.on("error", () => undefined)
      await redis.connect()
      return redis
    }),
    (redis) => Effect.sync(() => redis.disconnect())
  )

/** Sets a runtime setting directly in `app_config` (as the control center would). */
export const setSetting = (key: string, value: unknown) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`UPDATE app_config SET value = ${JSON.stringify(value)}::jsonb, updated_at = clock_timestamp() WHERE key = ${key}`).pipe(
      Effect.asVoid,
      Effect.orDie
    )

export { withRecordedSpans } from "./spans.js"

/** The `availability.source` attribute of the span named `name`. */
export const sourceOf = (spans: ReadonlyArray<Tracer.Span>, name: string) =>
  spans.find((span) => span.name === name)?.attributes.get("availability.source")
