/**
 * The shared loop (`sweepLoop` / `runSweep`), on the TestClock and without infrastructure: when
 * ticks happen, that a failing tick (an error or a defect) is logged and counted and never stops
 * its loop, what each tick records (duration, outcome, items, one log line with the numbers), and
 * that the loop stops with its scope.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Logger, LogLevel, Metric, MetricState, Ref, Scope, TestClock } from "effect"
import { runSweep, type SweepTick, sweepDuration, sweepLoop } from "../../src/sweeps/Sweep.js"
import {
  awaitTicks,
  awaitWakeups,
  capturingLogger,
  itemsOf,
  type LoggedLine,
  pendingWakeups,
  seconds,
  stillRunning,
  ticksOf,
  trackForkedFibers
} from "./kit.js"

const completed = (counts: Record<string, number>): SweepTick => ({ outcome: "completed", counts, summary: "did things" })

const durationCount = (sweep: string) =>
  Effect.map(Metric.value(Metric.tagged(sweepDuration, "sweep", sweep)), (state: MetricState.MetricState.Histogram) => state.count)

describe("sweepLoop", () => {
  it.scoped("ticks first one cadence after start, then one cadence after each tick", () =>
    Effect.gen(function*() {
      // "No tick yet" is read off the loop's sleep: asleep until an instant, it cannot tick before
      // the clock gets there. The tick is synchronous, so one that ran has been counted by the time
      // the loop sleeps again.
      const runs = yield* Ref.make(0)
      const before = yield* ticksOf("reseed")
      const start = yield* Clock.currentTimeMillis
      yield* sweepLoop("reseed", seconds(30), Effect.as(Ref.update(runs, (n) => n + 1), completed({})))
      expect(yield* awaitWakeups([start + 30_000])).toEqual([start + 30_000])
      expect(yield* Ref.get(runs)).toBe(0)
      yield* TestClock.adjust(seconds(29))
      expect(yield* pendingWakeups).toEqual([start + 30_000])
      expect(yield* Ref.get(runs)).toBe(0)

      yield* TestClock.adjust(seconds(1))
      yield* awaitTicks("reseed", before + 1)
      expect(yield* awaitWakeups([start + 60_000])).toEqual([start + 60_000])
      expect(yield* Ref.get(runs)).toBe(1)
      yield* TestClock.adjust(seconds(29))
      expect(yield* pendingWakeups).toEqual([start + 60_000])
      expect(yield* Ref.get(runs)).toBe(1)

      // One cadence per clock move: the next sleep starts when the tick ends, so it is awaited
      // before the clock moves again.
      for (let tick = 2; tick <= 5; tick++) {
        yield* TestClock.adjust(seconds(tick === 2 ? 1 : 30))
        yield* awaitTicks("reseed", before + tick)
        expect(yield* awaitWakeups([start + (tick + 1) * 30_000])).toEqual([start + (tick + 1) * 30_000])
      }
      expect(yield* Ref.get(runs)).toBe(5)
    }))

  it.scoped("a tick that fails (an error, then a defect) is logged and counted, and the loop goes on", () =>
    Effect.gen(function*() {
      const lines: Array<LoggedLine> = []
      const attempt = yield* Ref.make(0)
      const tick = Effect.gen(function*() {
        const n = yield* Ref.updateAndGet(attempt, (k) => k + 1)
        if (n === 1) return yield* Effect.fail({ message: "Valkey staleOnline failed: connection refused" })
        if (n === 2) return yield* Effect.die(new Error("a bug"))
        return completed({ offlined: 2 })
      })
      const aborted = yield* ticksOf("auto_offline", "aborted")
      const failed = yield* ticksOf("auto_offline", "failed")
      const done = yield* ticksOf("auto_offline", "completed")
      const total = yield* ticksOf("auto_offline")
      yield* sweepLoop("auto_offline", seconds(10), tick).pipe(Effect.provide(capturingLogger(lines)))
      for (let i = 1; i <= 3; i++) {
        yield* TestClock.adjust(seconds(10))
        yield* awaitTicks("auto_offline", total + i)
      }
      expect(yield* ticksOf("auto_offline", "aborted")).toBe(aborted + 1)
      expect(yield* ticksOf("auto_offline", "failed")).toBe(failed + 1)
      expect(yield* ticksOf("auto_offline", "completed")).toBe(done + 1)
      const warning = lines.find((l) => l.level === "WARN" && l.annotations.sweep === "auto_offline")
      expect(warning?.message).toContain("connection refused")
      expect(warning?.annotations.outcome).toBe("aborted")
      const error = lines.find((l) => l.level === "ERROR" && l.annotations.sweep === "auto_offline")
      expect(error?.annotations.outcome).toBe("failed")
      const info = lines.find((l) => l.level === "INFO" && l.annotations.sweep === "auto_offline")
      expect(info?.annotations).toMatchObject({ outcome: "completed", offlined: 2 })
    }))

  it.effect("one tick records its duration, outcome and items, and logs one line with the numbers", () =>
    Effect.gen(function*() {
      const lines: Array<LoggedLine> = []
      const durations = yield* durationCount("heartbeat_mirror")
      const written = yield* itemsOf("heartbeat_mirror", "written")
      const skipped = yield* ticksOf("heartbeat_mirror", "skipped")
      yield* runSweep("heartbeat_mirror", Effect.succeed(completed({ online: 7, written: 3 })).pipe(Effect.delay(seconds(2)))).pipe(
        Effect.provide(capturingLogger(lines)),
        Effect.fork,
        Effect.tap(() => TestClock.adjust(seconds(2))),
        Effect.flatMap((fiber) => fiber.await)
      )
      yield* runSweep("heartbeat_mirror", Effect.succeed<SweepTick>({ outcome: "skipped", counts: {}, summary: "Valkey down" })).pipe(
        Effect.provide(capturingLogger(lines))
      )
      expect(yield* durationCount("heartbeat_mirror")).toBe(durations + 2)
      expect(yield* itemsOf("heartbeat_mirror", "written")).toBe(written + 3)
      expect(yield* ticksOf("heartbeat_mirror", "skipped")).toBe(skipped + 1)
      const [first, second] = lines
      expect(first).toMatchObject({
        level: "INFO",
        annotations: { sweep: "heartbeat_mirror", outcome: "completed", online: 7, written: 3, durationMs: 2000 }
      })
      expect(second).toMatchObject({ level: "WARN", annotations: { outcome: "skipped" } })
      expect(lines).toHaveLength(2)
    }))

  it.effect("an idle tick (all counts zero) logs at debug level only (silent at the default info level)", () =>
    Effect.gen(function*() {
      const lines: Array<LoggedLine> = []
      const idle = runSweep("auto_offline", Effect.succeed(completed({ stale: 0, offlined: 0 }))).pipe(
        Effect.provide(capturingLogger(lines))
      )
      yield* idle
      expect(lines).toEqual([])
      yield* idle.pipe(Logger.withMinimumLogLevel(LogLevel.Debug))
      expect(lines.map((l) => [l.level, l.annotations.stale])).toEqual([["DEBUG", 0]])
    }))

  it.effect("the loop stops when its scope closes (shutdown): its fiber has ended, so no tick can follow", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      const scope = yield* Scope.make()
      const before = yield* ticksOf("reseed")
      const { forked } = yield* trackForkedFibers(
        sweepLoop("reseed", seconds(5), Effect.as(Ref.update(runs, (n) => n + 1), completed({}))).pipe(Scope.extend(scope))
      )
      expect(forked).toHaveLength(1)
      yield* TestClock.adjust(seconds(5))
      yield* awaitTicks("reseed", before + 1)
      expect(stillRunning(forked)).toHaveLength(1)
      yield* Scope.close(scope, Exit.void)
      expect(stillRunning(forked)).toEqual([])
      expect(Exit.isInterrupted(forked[0]!.unsafePoll()!)).toBe(true)
      expect(yield* Ref.get(runs)).toBe(1)
    }))
})
