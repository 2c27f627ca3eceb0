/**
 * Helpers for the sweep tests: the sweep services over the availability services on a chosen
 * store, a recording rerouting hook, a test clock set to a real instant, waiting (in real time)
 * for a forked loop's tick to finish after `TestClock.adjust`, and recorders for spans and logs.
 */
import { SqlClient } from "@effect/sql"
import { Context, Duration, Effect, Layer, Logger, Metric, MetricState, Ref, TestClock, Tracer } from "effect"
import { AccessTokens } from "../../src/auth/AccessTokens.js"
import { AvailabilityServicesLive } from "../../src/availability/AvailabilityLive.js"
import type { AvailabilityStore } from "../../src/availability/AvailabilityStore.js"
import {
  AvailabilityStoreLive,
  FailingAvailabilityStoreLive,
  InMemoryAvailabilityStoreLive
} from "../../src/availability/AvailabilityStoreLive.js"
import { type DepartureReason, SessionRerouting } from "../../src/sessions/SessionRerouting.js"
import { AuthSessionPruneSweep } from "../../src/sweeps/AuthSessionPruneSweep.js"
import { AutoOfflineSweep } from "../../src/sweeps/AutoOfflineSweep.js"
import { HeartbeatMirrorSweep } from "../../src/sweeps/HeartbeatMirrorSweep.js"
import { ReseedSweep } from "../../src/sweeps/ReseedSweep.js"
import type { SweepName } from "../../src/sweeps/Sweep.js"
import type { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { TestConfigLive } from "../support/TestConfig.js"
import { TestDatabaseLive } from "../support/TestDatabase.js"
import { TestValkeyLive } from "../support/TestValkey.js"

/** Every call the rerouting hook received. */
export class ReroutedMitras extends Context.Tag("test/ReroutedMitras")<
  ReroutedMitras,
  Ref.Ref<ReadonlyArray<{ readonly mitraId: string; readonly reason: DepartureReason }>>
>() {}

/** A rerouting hook that records its calls in `ReroutedMitras` (provided too). */
export const RecordingReroutingLive = Layer.effect(
  SessionRerouting,
  Effect.map(ReroutedMitras, (calls) =>
    SessionRerouting.make({
      rerouteLiveSessionsOf: (mitraId: string, reason: DepartureReason) =>
        Ref.update(calls, (all) => [...all, { mitraId, reason }])
    }))
).pipe(Layer.provideMerge(Layer.effect(ReroutedMitras, Ref.make<ReadonlyArray<{ mitraId: string; reason: DepartureReason }>>([]))))

/** The four sweeps' services. */
export const SweepServicesLive = Layer.mergeAll(
  AutoOfflineSweep.Default,
  HeartbeatMirrorSweep.Default,
  ReseedSweep.Default,
  AuthSessionPruneSweep.Default
)

export type StoreChoice = "valkey" | "memory" | "failing"

/** A store layer: one of the three, or a test's own (e.g. a wrapper around the Valkey store). */
export type StoreOption = StoreChoice | Layer.Layer<AvailabilityStore, never, ValkeyConnection>

const storeLayer = (store: StoreOption) =>
  typeof store !== "string"
    ? store
    : store === "failing"
    ? FailingAvailabilityStoreLive
    : store === "memory"
    ? InMemoryAvailabilityStoreLive
    : AvailabilityStoreLive

export interface InstanceOptions {
  readonly store?: StoreOption
  /** The rerouting hook; by default one that records its calls (`ReroutedMitras`). */
  readonly rerouting?: Layer.Layer<SessionRerouting | ReroutedMitras>
}

/**
 * The sweeps and the availability services over one store, given Postgres, config and a Valkey
 * connection. Two of these over the same infrastructure are two instances of the service.
 */
export const sweepInstance = (options: InstanceOptions = {}) =>
  SweepServicesLive.pipe(
    Layer.provideMerge(AvailabilityServicesLive),
    Layer.provideMerge(storeLayer(options.store ?? "valkey")),
    Layer.provideMerge(options.rerouting ?? RecordingReroutingLive)
  )

export interface SweepTestOptions extends InstanceOptions {
  readonly env?: Record<string, string>
  readonly database?: Layer.Layer<SqlClient.SqlClient, unknown>
  readonly valkey?: Layer.Layer<ValkeyConnection, unknown>
}

/** Postgres (own database), config, a Valkey connection (own prefix) and one sweep instance. */
export const SweepTestLive = (options: SweepTestOptions = {}) =>
  sweepInstance(options).pipe(
    Layer.provideMerge(Layer.mergeAll(
      options.database ?? TestDatabaseLive,
      TestConfigLive(options.env),
      options.valkey ?? TestValkeyLive,
      AccessTokens.Default.pipe(Layer.provide(TestConfigLive(options.env)))
    )),
    Layer.orDie
  )

/** A real instant, in whole seconds, that the tests set the `TestClock` to. */
export const realNow = () => Math.floor(Date.now() / 1000) * 1000

/** Sets the `TestClock` to a real instant (it starts at 1970) and returns it. */
export const startClockAtRealTime = Effect.sync(realNow).pipe(Effect.tap((now) => TestClock.setTime(now)))

/** A wait in real time (the `TestClock` would never end it). */
export const realSleep = (millis: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, millis)))

const counterSum = (name: string, tags: Record<string, string>) =>
  Effect.map(Metric.snapshot, (pairs) =>
    pairs
      .filter((p) =>
        p.metricKey.name === name &&
        Object.entries(tags).every(([k, v]) => p.metricKey.tags.some((t) => t.key === k && t.value === v))
      )
      .reduce((sum, p) => sum + (MetricState.isCounterState(p.metricState) ? Number(p.metricState.count) : 0), 0))

/** Ticks `sweep` has finished in this process (every outcome, or one). */
export const ticksOf = (sweep: SweepName, outcome?: string) =>
  counterSum("sweep_ticks_total", outcome === undefined ? { sweep } : { sweep, outcome })

/** `sweep_items_total{sweep, item}`. */
export const itemsOf = (sweep: SweepName, item: string) => counterSum("sweep_items_total", { sweep, item })

/** Waits (in real time, up to 20 s) until `sweep` has finished `count` ticks in total. */
export const awaitTicks = (sweep: SweepName, count: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 20_000
    while ((yield* ticksOf(sweep)) < count) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`sweep ${sweep} did not reach ${count} ticks`)
      yield* realSleep(10)
    }
  })

/**
 * Moves the `TestClock` by `by` and waits until `sweep` has finished `ticks` more ticks (the tick
 * does real I/O, so it ends in real time after the clock moved).
 */
export const advanceAndAwait = (sweep: SweepName, by: Duration.DurationInput, ticks = 1) =>
  Effect.gen(function*() {
    const before = yield* ticksOf(sweep)
    yield* TestClock.adjust(by)
    yield* awaitTicks(sweep, before + ticks)
  })

export { recordingSpans } from "../support/spans.js"

/** The SQL statements among `spans` (one `sql.execute` span per statement sent). */
export const sqlStatements = (spans: ReadonlyArray<Tracer.Span>) =>
  spans.filter((s) => s.name === "sql.execute").map((s) => String(s.attributes.get("db.query.text") ?? ""))

export interface LoggedLine {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** A logger that keeps every line (with its annotations) in `lines`, in place of the default one. */
export const capturingLogger = (lines: Array<LoggedLine>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ annotations, logLevel, message }) => {
      lines.push({
        level: logLevel.label,
        message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
        annotations: Object.fromEntries(annotations)
      })
    })
  )

/** A mitra's `mitra_online_status` row and its audit rows, for before/after comparisons. */
export const postgresStateOf = (ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const status = yield* sql<{ mitraId: string; isOnline: boolean; lastHeartbeatAt: Date | null; updatedAt: Date }>`
      SELECT mitra_id, is_online, last_heartbeat_at, updated_at FROM mitra_online_status
      WHERE mitra_id IN ${sql.in(ids)} ORDER BY mitra_id
    `
    const events = yield* sql<{ mitraId: string; event: string; reason: string; actor: string | null; at: Date }>`
      SELECT mitra_id, event, reason, actor, at FROM mitra_status_events WHERE mitra_id IN ${sql.in(ids)} ORDER BY mitra_id, id
    `
    return { status, events }
  }).pipe(Effect.orDie)

/** Whether each of `ids` is online in Postgres. */
export const onlineInPostgres = (ids: ReadonlyArray<string>) =>
  Effect.map(postgresStateOf(ids), ({ status }) => Object.fromEntries(ids.map((id) => [id, status.find((s) => s.mitraId === id)?.isOnline ?? false])))

export const seconds = (n: number) => Duration.seconds(n)
