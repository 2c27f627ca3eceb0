/**
 * The deactivation seam: `MitraAccounts.setActive` commits first, then hands the change to the
 * `MitraAccountFollowUp` (where the availability part mirrors it to Valkey and reroutes).
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Ref } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
import { MitraAccounts } from "../../src/controlCenter/MitraAccounts.js"
import { type MitraActivationChange, MitraAccountFollowUp } from "../../src/controlCenter/MitraAccountFollowUp.js"
import { createMitra } from "../support/fixtures.js"
import { TestConfigLive } from "../support/TestConfig.js"
import { TestDatabase, TestDatabaseLive } from "../support/TestDatabase.js"

interface Observed {
  readonly change: MitraActivationChange
  /** `mitras.is_active` as another connection sees it while the follow-up runs. */
  readonly committedIsActive: boolean
}

/** `is_active` as a separate Postgres session sees it: committed rows only. */
const committedIsActive = (url: string, mitraId: string) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query<{ is_active: boolean }>("SELECT is_active FROM mitras WHERE id = $1", [mitraId])
      return rows[0]!.is_active
    } finally {
      await client.end()
    }
  })

/** A follow-up that records each change and what another session sees at that moment. */
const recordingFollowUp = (observed: Ref.Ref<ReadonlyArray<Observed>>, behaviour: "record" | "die" = "record") =>
  Layer.effect(
    MitraAccountFollowUp,
    Effect.gen(function*() {
      const database = yield* TestDatabase
      return {
        afterActivation: (change) =>
          Effect.gen(function*() {
            const isActive = yield* committedIsActive(database.url, change.mitraId)
            yield* Ref.update(observed, (all) => [...all, { change, committedIsActive: isActive }])
            if (behaviour === "die") return yield* Effect.die(new Error("Valkey mirror exploded"))
          }),
        afterMaxSessionsChange: () => Effect.void
      }
    })
  )

const withAccounts = (observed: Ref.Ref<ReadonlyArray<Observed>>, behaviour: "record" | "die" = "record") =>
  Effect.provide(
    MitraAccounts.Default.pipe(
      Layer.provide(recordingFollowUp(observed, behaviour)),
      Layer.provideMerge(Layer.merge(TestDatabaseLive, TestConfigLive())),
      Layer.orDie
    )
  )

const actor = randomUUID()

describe("MitraAccounts.setActive and its follow-up", () => {
  it.scopedLive("runs the follow-up once, after the commit, with what changed", () =>
    Effect.gen(function*() {
      const observed = yield* Ref.make<ReadonlyArray<Observed>>([])
      yield* Effect.gen(function*() {
        const accounts = yield* MitraAccounts
        const mitra = yield* createMitra({ isOnline: true })
        yield* accounts.setActive(mitra.id, false, actor)
        expect(yield* Ref.get(observed)).toEqual([{
          change: { mitraId: mitra.id, isActive: false, changed: true, wentOffline: true, actor, statusVersion: 1 },
          committedIsActive: false
        }])

        yield* accounts.setActive(mitra.id, false, actor)
        yield* accounts.setActive(mitra.id, true, actor)
        expect((yield* Ref.get(observed)).slice(1)).toEqual([
          // The status version names the committed state: unchanged, the same; reactivated, the next.
          { change: { mitraId: mitra.id, isActive: false, changed: false, wentOffline: false, actor, statusVersion: 1 }, committedIsActive: false },
          { change: { mitraId: mitra.id, isActive: true, changed: true, wentOffline: false, actor, statusVersion: 2 }, committedIsActive: true }
        ])
      }).pipe(withAccounts(observed))
    }))

  it.scopedLive("PATCH-style update routes isActive through setActive (one follow-up), other fields alone run none", () =>
    Effect.gen(function*() {
      const observed = yield* Ref.make<ReadonlyArray<Observed>>([])
      yield* Effect.gen(function*() {
        const accounts = yield* MitraAccounts
        const mitra = yield* createMitra()
        yield* accounts.update(mitra.id, { displayName: "Only a rename" }, actor)
        expect(yield* Ref.get(observed)).toEqual([])
        const updated = yield* accounts.update(mitra.id, { displayName: "Renamed and off", isActive: false }, actor)
        expect(updated).toMatchObject({ displayName: "Renamed and off", isActive: false })
        expect((yield* Ref.get(observed)).map((o) => o.change.changed)).toEqual([true])
      }).pipe(withAccounts(observed))
    }))

  it.scopedLive("a failing follow-up does not undo or fail the committed deactivation", () =>
    Effect.gen(function*() {
      const observed = yield* Ref.make<ReadonlyArray<Observed>>([])
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const accounts = yield* MitraAccounts
        const mitra = yield* createMitra()
        const result = yield* Effect.exit(accounts.setActive(mitra.id, false, actor))
        expect(Exit.isSuccess(result)).toBe(true)
        expect(yield* Ref.get(observed)).toHaveLength(1)
        const [row] = yield* sql<{ isActive: boolean }>`SELECT is_active FROM mitras WHERE id = ${mitra.id}`
        expect(row).toEqual({ isActive: false })
      }).pipe(withAccounts(observed, "die"))
    }))

  it.scopedLive("an unknown mitra fails with MitraNotFound and runs no follow-up", () =>
    Effect.gen(function*() {
      const observed = yield* Ref.make<ReadonlyArray<Observed>>([])
      yield* Effect.gen(function*() {
        const accounts = yield* MitraAccounts
        const error = yield* Effect.flip(accounts.setActive(randomUUID(), false, actor))
        expect(error._tag).toBe("MitraNotFound")
        expect(yield* Ref.get(observed)).toEqual([])
      }).pipe(withAccounts(observed))
    }))
})
