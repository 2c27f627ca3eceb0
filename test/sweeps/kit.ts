/**
 * Helpers for the sweep tests: the sweep services over the test infrastructure, a recording
 * rerouting hook, a test clock set to a real instant, waiting (in real time)
 * for a forked loop's tick to finish after `TestClock.adjust`, the `TestClock`'s pending wake-ups
 * and the fibers a layer forked (to prove "no tick yet" and "stopped" without waiting to see),
 * and recorders for spans and logs.
 */
import { SqlClient } from "@effect/sql"
import { Chunk, Context, Duration, Effect, type Fiber, FiberId, Layer, Logger, Metric, MetricState, Ref, Supervisor, TestClock, Tracer } from "effect"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import { type DepartureReason, SessionRerouting } from "../../src/sessions/SessionRerouting.js"
import { AvailabilitySettings } from "../../src/settings/AvailabilitySettings.js"
import { AuthSessionPruneSweep } from "../../src/sweeps/AuthSessionPruneSweep.js"
import { AutoOfflineSweep } from "../../src/sweeps/AutoOfflineSweep.js"
import { HeartbeatMirrorSweep } from "../../src/sweeps/HeartbeatMirrorSweep.js"
import { ReseedSweep } from "../../src/sweeps/ReseedSweep.js"
import type { SweepName } from "../../src/sweeps/Sweep.js"
import { type InfrastructureOptions, TestInfrastructure, TestServices } from "../support/TestInfrastructure.js"

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
        Ref.update(calls, (all) => [...all, { mitraId, reason }]).pipe(Effect.as(0)),
      rerouteOrphans: () => Effect.succeed(0)
    }))
).pipe(Layer.provideMerge(Layer.effect(ReroutedMitras, Ref.make<ReadonlyArray<{ mitraId: string; reason: DepartureReason }>>([]))))

/** The four sweeps' services, the auto-offline sweep's rerouting hook replaced by `rerouting`. */
export const sweepServices = (rerouting: Layer.Layer<SessionRerouting | ReroutedMitras> = RecordingReroutingLive) =>
  Layer.mergeAll(
    AutoOfflineSweep.DefaultWithoutDependencies.pipe(
      Layer.provide(Layer.mergeAll(MitraStatus.Default, AvailabilitySettings.Default))
    ),
    HeartbeatMirrorSweep.Default,
    ReseedSweep.Default,
    AuthSessionPruneSweep.Default
  ).pipe(Layer.provideMerge(rerouting))

export interface SweepTestOptions extends InfrastructureOptions {
  /** The rerouting hook; by default one that records its calls (`ReroutedMitras`). */
  readonly rerouting?: Layer.Layer<SessionRerouting | ReroutedMitras>
}

/** The sweeps and the services (`TestServices`) over the test's infrastructure. */
export const SweepTestLive = (options: SweepTestOptions = {}) =>
  Layer.mergeAll(sweepServices(options.rerouting), TestServices).pipe(
    Layer.provideMerge(TestInfrastructure(options)),
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

/**
 * Moves the `TestClock` by `by` and waits until each of `sweeps` has finished one more tick. Each
 * loop is a fiber of its own: one loop's tick being done says nothing about another's, so each
 * is awaited on its own counter (read before the clock moved).
 */
export const advanceAndAwaitEach = (sweeps: ReadonlyArray<SweepName>, by: Duration.DurationInput) =>
  Effect.gen(function*() {
    const before = yield* Effect.forEach(sweeps, (sweep) => ticksOf(sweep))
    yield* TestClock.adjust(by)
    yield* Effect.forEach(sweeps, (sweep, i) => awaitTicks(sweep, before[i]! + 1), { discard: true })
  })

/**
 * The instants (epoch ms) at which fibers asleep on the `TestClock` will wake, ascending. A loop
 * asleep until an instant cannot tick before the clock reaches it, which is how the sweep tests
 * prove "no tick yet" without waiting to see. The `TestClock` keeps interrupted sleepers in this
 * list, so it cannot prove a loop has stopped (see `trackForkedFibers`).
 */
export const pendingWakeups = Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toArray(sleeps).sort((a, b) => a - b))

/** Whether `pending` holds every instant of `instants` (as many times as listed there). */
const holdsAll = (pending: ReadonlyArray<number>, instants: ReadonlyArray<number>) => {
  const left = [...pending]
  return instants.every((instant) => {
    const i = left.indexOf(instant)
    if (i === -1) return false
    left.splice(i, 1)
    return true
  })
}

/**
 * Waits (in real time, up to 20 s) until fibers are asleep until each of `instants`, and returns
 * every pending wake-up. A forked loop registers its sleep when its fiber gets to run (and, after
 * a tick, once the tick's I/O is done), not when it is forked or its tick is counted.
 */
export const awaitWakeups = (instants: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 20_000
    while (true) {
      const pending = yield* pendingWakeups
      if (holdsAll(pending, instants)) return pending
      if (Date.now() > deadline) {
        const iso = (all: ReadonlyArray<number>) => all.map((t) => new Date(t).toISOString()).join(", ")
        return yield* Effect.dieMessage(`no fibers asleep until [${iso(instants)}]; pending wake-ups: [${iso(pending)}]`)
      }
      yield* realSleep(10)
    }
  })

/**
 * Runs `effect` (starting a loop, building a layer) under a supervisor, and returns its result
 * with the fibers it forked that were still running when it returned — the fibers a scope's close
 * must end. Interrupted loops leave their sleeps in `TestClock.sleeps`, so "stopped" is proven
 * on the fibers themselves (`stillRunning`).
 */
export const trackForkedFibers = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const supervisor = yield* Supervisor.track
    const result = yield* Effect.supervised(effect, supervisor)
    const forked: ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>> = yield* supervisor.value
    return { result, forked }
  })

/** The ids (`#n`) of the fibers among `fibers` that have not ended. */
export const stillRunning = (fibers: ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>>) =>
  fibers.filter((fiber) => fiber.unsafePoll() === null).map((fiber) => FiberId.threadName(fiber.id()))

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
