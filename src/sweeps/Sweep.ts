/**
 * What the sweeps share: one tick run as a span, timed and counted as Effect metrics (so
 * `/metrics` shows them), reported as one structured log line, and never failing — a tick that
 * fails is logged and the loop goes on; and the loop itself, a fiber forked into the layer's
 * scope that ticks on `Schedule.spaced(cadence)` and is interrupted when the app shuts down.
 *
 * The first tick runs one cadence after start-up, not at once: start-up has just seeded the
 * mirror (an immediate reseed would repeat it), and after a restart mitras' apps get one cadence
 * to reach the new process before the auto-offline sweep judges their heartbeats.
 */
import { Cause, Clock, type Duration, Effect, Metric, MetricBoundaries, Option, Schedule } from "effect"

export type SweepName = "auto_offline" | "heartbeat_mirror" | "reseed" | "auth_session_prune" | "session_deadlines"

/** What one tick did: `completed`, or `skipped` (nothing it could do this time, e.g. Valkey down). */
export interface SweepTick {
  readonly outcome: "completed" | "skipped"
  /** The numbers of the tick (logged as fields, and added to `sweep_items_total{sweep,item}`). */
  readonly counts: Readonly<Record<string, number>>
  /** One human sentence with the numbers. */
  readonly summary: string
}

/** `aborted`: the tick failed with an expected error (Valkey or Postgres down); `failed`: a defect. */
export type SweepOutcome = SweepTick["outcome"] | "aborted" | "failed"

export const sweepDuration = Metric.histogram(
  "sweep_duration_seconds",
  MetricBoundaries.exponential({ start: 0.001, factor: 2, count: 16 }),
  "Duration of one sweep tick, by sweep"
)

export const sweepTicks = Metric.counter("sweep_ticks_total", {
  description: "Sweep ticks by sweep and outcome (completed, skipped, aborted, failed)",
  incremental: true
})

export const sweepItems = Metric.counter("sweep_items_total", {
  description: "What the sweeps did, by sweep and item (mitras offlined, heartbeats copied, drift healed, ...)",
  incremental: true
})

const record = (sweep: SweepName, outcome: SweepOutcome, seconds: number, counts: Readonly<Record<string, number>>) =>
  Effect.all([
    Metric.update(Metric.tagged(sweepDuration, "sweep", sweep), seconds),
    Metric.increment(Metric.tagged(Metric.tagged(sweepTicks, "sweep", sweep), "outcome", outcome)),
    ...Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([item, n]) => Metric.incrementBy(Metric.tagged(Metric.tagged(sweepItems, "sweep", sweep), "item", item), n))
  ], { discard: true })

/**
 * One tick of `sweep`: a span (`Sweep.<name>`), its duration and outcome recorded, one log line
 * (info when it did something, debug when idle, warning when skipped or aborted, error on a
 * defect). Never fails: interruption (shutdown) is the only way out besides success.
 */
export const runSweep = <E extends { readonly message: string }, R>(sweep: SweepName, tick: Effect.Effect<SweepTick, E, R>) => {
  const run = Effect.fn(`Sweep.${sweep}`)(function*() {
    const started = yield* Clock.currentTimeNanos
    const result = yield* Effect.exit(tick)
    const seconds = Number((yield* Clock.currentTimeNanos) - started) / 1e9
    const durationMs = Math.round(seconds * 1e6) / 1e3
    if (result._tag === "Success") {
      const { counts, outcome, summary } = result.value
      yield* record(sweep, outcome, seconds, counts)
      yield* Effect.annotateCurrentSpan({ "sweep.outcome": outcome, ...prefixed(counts) })
      const idle = Object.values(counts).every((n) => n === 0)
      const log = outcome === "skipped" ? Effect.logWarning : idle ? Effect.logDebug : Effect.logInfo
      return yield* log(`Sweep ${sweep} ${outcome}: ${summary}`).pipe(
        Effect.annotateLogs({ sweep, outcome, durationMs, ...counts })
      )
    }
    if (Cause.isInterruptedOnly(result.cause)) return yield* Effect.failCause(result.cause)
    const failure = Cause.failureOption(result.cause)
    const outcome: SweepOutcome = Option.isSome(failure) ? "aborted" : "failed"
    yield* record(sweep, outcome, seconds, {})
    yield* Effect.annotateCurrentSpan("sweep.outcome", outcome)
    return yield* Option.isSome(failure)
      ? Effect.logWarning(`Sweep ${sweep} aborted: ${failure.value.message}; the next tick tries again`).pipe(
        Effect.annotateLogs({ sweep, outcome, durationMs, error: failure.value.message })
      )
      : Effect.logError(`Sweep ${sweep} failed unexpectedly; the next tick tries again`, result.cause).pipe(
        Effect.annotateLogs({ sweep, outcome, durationMs })
      )
  })
  return run()
}

const prefixed = (counts: Readonly<Record<string, number>>) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [`sweep.${k}`, v]))

/**
 * Forks `sweep`'s loop into the current scope: the first tick one `cadence` from now, then one
 * `cadence` after each tick ends (`Schedule.spaced`: ticks of one instance never overlap).
 */
export const sweepLoop = <E extends { readonly message: string }, R>(
  sweep: SweepName,
  cadence: Duration.Duration,
  tick: Effect.Effect<SweepTick, E, R>
) =>
  Effect.sleep(cadence).pipe(
    Effect.zipRight(runSweep(sweep, tick).pipe(Effect.repeat(Schedule.spaced(cadence)))),
    Effect.forkScoped,
    Effect.asVoid
  )
