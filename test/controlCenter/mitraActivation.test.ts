/**
 * The activation change: `MitraAccounts.setActive` commits first (flag, sessions revoked, offline,
 * audit, status version), then mirrors the committed state to the availability mirror and, on a
 * deactivation, hands the mitra's sessions to the rerouting hook. Both after-commit steps are
 * observed here: what they were given, and what another Postgres session saw at that moment.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Ref } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
import { RefreshSessions } from "../../src/auth/RefreshSessions.js"
import { InMemoryAvailabilityStoreLive } from "../../src/availability/AvailabilityStoreLive.js"
import { Capacity } from "../../src/availability/Capacity.js"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import { AvailabilityStore } from "../../src/availability/store/AvailabilityStore.js"
import { MitraAccounts } from "../../src/controlCenter/MitraAccounts.js"
import { Transactions } from "../../src/db/Repository.js"
import { MitrasRepo } from "../../src/mitras/MitrasRepo.js"
import { type DepartureReason, SessionRerouting } from "../../src/sessions/SessionRerouting.js"
import { createMitra } from "../support/fixtures.js"
import { cloneTemplateDatabase, pgClientLayer } from "../support/TestDatabase.js"
import { TestInfrastructure } from "../support/TestInfrastructure.js"

type Observed =
  | { readonly step: "mirror"; readonly mitraId: string; readonly deactivated: boolean; readonly version: number; readonly committedIsActive: boolean }
  | { readonly step: "reroute"; readonly mitraId: string; readonly reason: DepartureReason; readonly committedIsActive: boolean }

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

/**
 * The accounts service over an in-memory mirror whose `setDeactivated` records its calls, and a
 * rerouting hook that records its own (or dies, to prove a failing after-commit step fails nothing).
 */
const withAccounts = (observed: Ref.Ref<ReadonlyArray<Observed>>, rerouting: "record" | "die" = "record") => <A, E, R>(
  test: Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const database = yield* cloneTemplateDatabase
    return yield* test.pipe(Effect.provide(accountsOver(database.url, observed, rerouting)))
  })

const accountsOver = (url: string, observed: Ref.Ref<ReadonlyArray<Observed>>, rerouting: "record" | "die") => {
  const record = (entry: Observed) => Ref.update(observed, (all) => [...all, entry])
  const recordingMirror = Layer.effect(
    AvailabilityStore,
    Effect.map(AvailabilityStore, (store) => ({
        ...store,
        setDeactivated: (mitraId: string, deactivated: boolean, version: number) =>
          Effect.gen(function*() {
            const isActive = yield* committedIsActive(url, mitraId)
            yield* record({ step: "mirror", mitraId, deactivated, version, committedIsActive: isActive })
            yield* store.setDeactivated(mitraId, deactivated, version)
          })
      }))
  ).pipe(Layer.provideMerge(InMemoryAvailabilityStoreLive))
  const recordingRerouting = Layer.succeed(
    SessionRerouting,
    SessionRerouting.make({
      rerouteLiveSessionsOf: (mitraId: string, reason: DepartureReason) =>
        Effect.gen(function*() {
          const isActive = yield* committedIsActive(url, mitraId)
          yield* record({ step: "reroute", mitraId, reason, committedIsActive: isActive })
          if (rerouting === "die") return yield* Effect.die(new Error("rerouting exploded"))
          return 0
        }),
      rerouteOrphans: () => Effect.succeed(0)
    })
  )
  return MitraAccounts.DefaultWithoutDependencies.pipe(
    Layer.provide(Layer.mergeAll(
      MitrasRepo.Default,
      Transactions.Default,
      RefreshSessions.Default,
      MitraStatus.Default,
      Capacity.Default,
      recordingRerouting
    )),
    Layer.provideMerge(TestInfrastructure({ database: pgClientLayer(url), store: recordingMirror }))
  )
}

const actor = randomUUID()

describe("MitraAccounts.setActive and what follows the commit", () => {
  it.scopedLive("mirrors the committed state (at its status version), then reroutes a deactivated mitra; each once, after the commit", () =>
    Effect.gen(function*() {
      const observed = yield* Ref.make<ReadonlyArray<Observed>>([])
      yield* Effect.gen(function*() {
        const accounts = yield* MitraAccounts
        const mitra = yield* createMitra({ isOnline: true })
        const change = yield* accounts.setActive(mitra.id, false, actor)
        expect(change).toEqual({ mitraId: mitra.id, isActive: false, changed: true, wentOffline: true, actor, statusVersion: 1 })
        expect(yield* Ref.get(observed)).toEqual([
          { step: "mirror", mitraId: mitra.id, deactivated: true, version: 1, committedIsActive: false },
          { step: "reroute", mitraId: mitra.id, reason: "deactivated", committedIsActive: false }
        ])

        // Unchanged: the mirror is told the same state at the same version (a re-assertion that
        // heals drift); reactivated: the next version, and nothing to reroute.
        yield* accounts.setActive(mitra.id, false, actor)
        yield* accounts.setActive(mitra.id, true, actor)
        expect((yield* Ref.get(observed)).slice(2)).toEqual([
          { step: "mirror", mitraId: mitra.id, deactivated: true, version: 1, committedIsActive: false },
          { step: "reroute", mitraId: mitra.id, reason: "deactivated", committedIsActive: false },
          { step: "mirror", mitraId: mitra.id, deactivated: false, version: 2, committedIsActive: true }
        ])
      }).pipe(withAccounts(observed))
    }))

  it.scopedLive("PATCH-style update routes isActive through setActive (one mirror step), other fields alone run none", () =>
    Effect.gen(function*() {
      const observed = yield* Ref.make<ReadonlyArray<Observed>>([])
      yield* Effect.gen(function*() {
        const accounts = yield* MitraAccounts
        const mitra = yield* createMitra()
        yield* accounts.update(mitra.id, { displayName: "Only a rename" }, actor)
        expect(yield* Ref.get(observed)).toEqual([])
        const updated = yield* accounts.update(mitra.id, { displayName: "Renamed and off", isActive: false }, actor)
        expect(updated).toMatchObject({ displayName: "Renamed and off", isActive: false })
        expect((yield* Ref.get(observed)).map((o) => o.step)).toEqual(["mirror", "reroute"])
      }).pipe(withAccounts(observed))
    }))

  it.scopedLive("a failing after-commit step does not undo or fail the committed deactivation", () =>
    Effect.gen(function*() {
      const observed = yield* Ref.make<ReadonlyArray<Observed>>([])
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const accounts = yield* MitraAccounts
        const mitra = yield* createMitra()
        const result = yield* Effect.exit(accounts.setActive(mitra.id, false, actor))
        expect(Exit.isSuccess(result)).toBe(true)
        expect((yield* Ref.get(observed)).map((o) => o.step)).toEqual(["mirror", "reroute"])
        const [row] = yield* sql<{ isActive: boolean }>`SELECT is_active FROM mitras WHERE id = ${mitra.id}`
        expect(row).toEqual({ isActive: false })
      }).pipe(withAccounts(observed, "die"))
    }))

  it.scopedLive("an unknown mitra fails with MitraNotFound and nothing follows", () =>
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
