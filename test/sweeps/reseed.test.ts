/**
 * The reseed sweep, driven through its loop on the TestClock against real Postgres and Valkey:
 * drift made by hand on the raw contract keys (a member missing, an extra member, a wrong
 * capacity, ...) is healed after one cadence and reported — in the log line and in
 * `sweep_items_total{sweep="reseed"}` — and a mirror that matches reports nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { inject } from "vitest"
import type { MirrorState } from "../../src/availability/store/MirrorInspector.js"
import { ReseedSweepLive } from "../../src/sweeps/SweepsLive.js"
import { ValkeyConnection } from "../../src/valkey/ValkeyConnection.js"
import { insertSession, mirrorState, rawValkey, seedMirror } from "../support/availability.js"
import { createMitra } from "../support/fixtures.js"
import {
  advanceAndAwait,
  capturingLogger,
  itemsOf,
  type LoggedLine,
  seconds,
  startClockAtRealTime,
  SweepTestLive,
  ticksOf
} from "./kit.js"

/** Default config: `VALKEY_ONLINE_MIRROR_SWEEP_SECONDS` 300. */
const cadence = seconds(300)

const driftItems = [
  "online_added",
  "online_removed",
  "deactivated_added",
  "deactivated_removed",
  "capacity_fixed",
  "heartbeat_written",
  "heartbeat_removed"
] as const

const itemCounts = Effect.all(Object.fromEntries(driftItems.map((item) => [item, itemsOf("reseed", item)])) as Record<
  typeof driftItems[number],
  Effect.Effect<number>
>)

const restrict = (state: MirrorState, ids: ReadonlyArray<string>) => ({
  online: state.online.filter((id) => ids.includes(id)),
  deactivated: state.deactivated.filter((id) => ids.includes(id)),
  capacity: Object.fromEntries(ids.map((id) => [id, state.capacity[id]])),
  heartbeat: Object.fromEntries(ids.flatMap((id) => (state.heartbeat[id] === undefined ? [] : [[id, state.heartbeat[id]]])))
})

describe("reseed sweep", () => {
  it.scoped("drift made by hand is healed after one cadence and reported, per set and per key kind", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      const heartbeat = new Date(t0 - 10_000)
      const missing = yield* createMitra({ isOnline: true, lastHeartbeatAt: heartbeat })
      const extra = yield* createMitra()
      const busy = yield* createMitra({ isOnline: true, lastHeartbeatAt: heartbeat })
      const deactivated = yield* createMitra({ isActive: false })
      const reactivated = yield* createMitra()
      const lostHeartbeat = yield* createMitra({ isOnline: true, lastHeartbeatAt: heartbeat })
      yield* insertSession({ mitraId: busy.id, status: "active" })
      const ids = [missing, extra, busy, deactivated, reactivated, lostHeartbeat].map((m) => m.id)
      yield* seedMirror
      const healthy = restrict(yield* mirrorState, ids)

      // Drift, as failed best-effort writes or a hand edit would leave it:
      const { keyPrefix } = yield* ValkeyConnection
      const redis = yield* rawValkey(inject("valkeyUrl"))
      yield* Effect.promise(() =>
        redis.multi()
          .srem(`${keyPrefix}mitras:online`, missing.id)
          .sadd(`${keyPrefix}mitras:online`, extra.id)
          .set(`${keyPrefix}mitra:heartbeat:${extra.id}`, heartbeat.toISOString())
          .set(`${keyPrefix}mitra:capacity:${busy.id}`, "0")
          .srem(`${keyPrefix}mitras:deactivated`, deactivated.id)
          .sadd(`${keyPrefix}mitras:deactivated`, reactivated.id)
          .del(`${keyPrefix}mitra:heartbeat:${lostHeartbeat.id}`)
          .exec()
      )
      expect(restrict(yield* mirrorState, ids)).not.toEqual(healthy)

      const lines: Array<LoggedLine> = []
      const before = yield* itemCounts
      yield* Layer.build(ReseedSweepLive).pipe(Effect.provide(capturingLogger(lines)))
      yield* advanceAndAwait("reseed", cadence)

      expect(restrict(yield* mirrorState, ids)).toEqual(healthy)
      const after = yield* itemCounts
      const reported = Object.fromEntries(driftItems.map((item) => [item, after[item] - before[item]]))
      expect(reported).toEqual({
        online_added: 1,
        online_removed: 1,
        deactivated_added: 1,
        deactivated_removed: 1,
        capacity_fixed: 1,
        heartbeat_written: 1,
        heartbeat_removed: 1
      })
      const line = lines.find((l) => l.annotations.sweep === "reseed")
      expect(line?.level).toBe("INFO")
      expect(line?.message).toContain("healed 7 drifted item(s)")
      expect(line?.annotations).toMatchObject({ outcome: "completed", ...reported })
    }).pipe(Effect.provide(SweepTestLive())))

  it.scoped("a mirror that matches Postgres is reported as such: no drift counted", () =>
    Effect.gen(function*() {
      const t0 = yield* startClockAtRealTime
      yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date(t0 - 10_000) })
      yield* createMitra({ isActive: false })
      yield* seedMirror
      const lines: Array<LoggedLine> = []
      const before = yield* itemCounts
      yield* Layer.build(ReseedSweepLive).pipe(Effect.provide(capturingLogger(lines)))
      yield* advanceAndAwait("reseed", cadence)
      expect(yield* itemCounts).toEqual(before)
      expect(lines.filter((l) => l.annotations.sweep === "reseed" && l.level !== "DEBUG")).toEqual([])
    }).pipe(Effect.provide(SweepTestLive())))

  it.scoped("with Valkey down (the failing layer) the tick aborts and the loop goes on", () =>
    Effect.gen(function*() {
      yield* startClockAtRealTime
      const aborted = yield* ticksOf("reseed", "aborted")
      yield* Layer.build(ReseedSweepLive)
      yield* advanceAndAwait("reseed", cadence)
      yield* advanceAndAwait("reseed", cadence)
      expect(yield* ticksOf("reseed", "aborted")).toBe(aborted + 2)
    }).pipe(Effect.provide(SweepTestLive({ store: "failing" }))))
})
