/**
 * A mirror write that fails after its Postgres commit asks for a prompt reseed (`MirrorRepair`):
 * over a Valkey store whose `markOnline` / `setDeactivated` fails once, the mirror catches up
 * through the seeder's catch-up loop (`MirrorCatchUpLive`, every second) — no reseed sweep runs
 * here, so without the request the mirror would stay wrong.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import { valkeyWriteFailures } from "../../src/availability/AvailabilityMetrics.js"
import { counterValue } from "../support/metrics.js"
import { AvailabilityStore, type AvailabilityStoreShape } from "../../src/availability/store/AvailabilityStore.js"
import { MirrorRepair } from "../../src/availability/MirrorRepair.js"
import { MirrorCatchUpLive } from "../../src/sweeps/MirrorCatchUp.js"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import { AvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { ValkeyError } from "../../src/valkey/ValkeyError.js"
import { mirrorState, seedMirror } from "../support/availability.js"
import { TestServicesLive } from "../support/TestInfrastructure.js"
import { createMitra } from "../support/fixtures.js"

/** The Valkey mirror, its store's `operation` failing on the first call (a blip after the Postgres commit). */
const failingOnce = (operation: "markOnline" | "setDeactivated") =>
  Layer.effect(
    AvailabilityStore,
    Effect.gen(function*() {
      const base = yield* AvailabilityStore
      const failed = yield* Ref.make(false)
      const once = <A>(write: Effect.Effect<A, ValkeyError>) =>
        Effect.flatMap(Ref.getAndSet(failed, true), (done) =>
          done ? write : Effect.fail(new ValkeyError({ message: `simulated ${operation} failure` })))
      const store: AvailabilityStoreShape = operation === "markOnline"
        ? { ...base, markOnline: (...args) => once(base.markOnline(...args)) }
        : { ...base, setDeactivated: (...args) => once(base.setDeactivated(...args)) }
      return store
    })
  ).pipe(Layer.provideMerge(AvailabilityStoreLive))

const TestLive = (operation: "markOnline" | "setDeactivated") => TestServicesLive({ store: failingOnce(operation) })

/** Waits in real time (up to 10 s) until `check` holds on the mirror's state. */
const awaitMirror = (check: (state: { online: ReadonlyArray<string>; deactivated: ReadonlyArray<string> }) => boolean) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 10_000
    while (!check(yield* mirrorState)) {
      if (Date.now() > deadline) return yield* Effect.dieMessage("the mirror did not catch up")
      yield* Effect.sleep(50)
    }
  })

describe("a failed mirror write asks for a prompt reseed", () => {
  it.scopedLive("setOnline whose markOnline fails: the mirror learns the mitra is online without the reseed sweep", () =>
    Effect.gen(function*() {
      const status = yield* MitraStatus
      const repair = yield* MirrorRepair
      const mitra = yield* createMitra()
      yield* seedMirror
      yield* Layer.build(MirrorCatchUpLive)

      const failuresBefore = yield* counterValue(valkeyWriteFailures, { operation: "markOnline" })
      expect(yield* status.setOnline(mitra.id, "mitra:test")).toEqual({ isOnline: true })
      // The write really failed.
      expect(yield* counterValue(valkeyWriteFailures, { operation: "markOnline" })).toBe(failuresBefore + 1)

      yield* awaitMirror((state) => state.online.includes(mitra.id))
      const state = yield* mirrorState
      expect(state.heartbeat[mitra.id]).toBeDefined()
      expect(yield* repair.isRequested).toBe(false)
    }).pipe(Effect.provide(TestLive("markOnline"))))

  it.scopedLive("a deactivation whose setDeactivated fails: the mirror gains the flag and drops the mitra from online", () =>
    Effect.gen(function*() {
      const status = yield* MitraStatus
      const sql = yield* SqlClient.SqlClient
      const mitra = yield* createMitra({ isOnline: true, lastHeartbeatAt: new Date() })
      yield* seedMirror
      expect((yield* mirrorState).online).toContain(mitra.id)
      yield* Layer.build(MirrorCatchUpLive)

      // The control center's transaction (is_active off, offline), then the follow-up's mirror step.
      yield* sql`UPDATE mitras SET is_active = false WHERE id = ${mitra.id}`.pipe(Effect.orDie)
      yield* sql`UPDATE mitra_online_status SET is_online = false WHERE mitra_id = ${mitra.id}`.pipe(Effect.orDie)
      const failuresBefore = yield* counterValue(valkeyWriteFailures, { operation: "setDeactivated" })
      yield* status.mirrorActiveFlag(mitra.id, false, 1)
      expect(yield* counterValue(valkeyWriteFailures, { operation: "setDeactivated" })).toBe(failuresBefore + 1)

      yield* awaitMirror((state) => state.deactivated.includes(mitra.id) && !state.online.includes(mitra.id))
    }).pipe(Effect.provide(TestLive("setDeactivated"))))
})
