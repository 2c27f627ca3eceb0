/**
 * Status writes racing on two instances. Each instance commits to Postgres and then writes the
 * mirror; nothing orders two instances' mirror writes except the `status_version` each carries
 * (`StatusVersion`). Here every mirror write is delayed by a random few milliseconds — the time a
 * real write spends between its commit and Valkey (a scheduler, a network, a GC pause) — so
 * writes of one mitra reach Valkey out of commit order, often. Whatever the order, the mirror
 * must end where Postgres ends.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { MitraStatus } from "../../src/availability/MitraStatus.js"
import { MitraAccounts } from "../../src/controlCenter/MitraAccounts.js"
import { mirrorState } from "../support/availability.js"
import { delayedMirrorWrites } from "../support/delayedMirror.js"
import { createMitra } from "../support/fixtures.js"
import { randomKeyPrefix } from "../support/TestValkey.js"
import { serviceInstance, TestInfrastructure } from "../support/TestInfrastructure.js"

/** Pairs in flight at once: enough to keep both pools busy, not so many that they queue past the acquire timeout. */
const pairsAtOnce = 20

/** The Valkey mirror with every status write held back a random few milliseconds. */
const jitteryStore = delayedMirrorWrites(["markOnline", "markOffline", "setDeactivated"], 8)

/** One instance: its own Valkey connection (on the shared prefix), jittery store and services. */
const instance = (keyPrefix: string) => serviceInstance({ keyPrefix, store: jitteryStore })

/** Postgres's and the mirror's view of each mitra. */
const views = (mitraIds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string; isActive: boolean; isOnline: boolean }>`
      SELECT m.id, m.is_active, COALESCE(s.is_online, false) AS is_online
      FROM mitras m LEFT JOIN mitra_online_status s ON s.mitra_id = m.id
      WHERE m.id IN ${sql.in(mitraIds)}
    `
    const state = yield* mirrorState
    const postgres = Object.fromEntries(rows.map((r) => [r.id, { online: r.isOnline, deactivated: !r.isActive }]))
    const mirror = Object.fromEntries(mitraIds.map((id) => [id, {
      online: state.online.includes(id),
      deactivated: state.deactivated.includes(id)
    }]))
    return { postgres, mirror, heartbeats: state.heartbeat }
  }).pipe(Effect.orDie)

describe("status writes racing on two instances", () => {
  it.scopedLive("200 simultaneous online (A) + offline (B) pairs: the mirror ends where Postgres does, every mitra", () =>
    Effect.gen(function*() {
      const keyPrefix = randomKeyPrefix()
      const [a, b] = [yield* instance(keyPrefix), yield* instance(keyPrefix)]
      const mitras = yield* Effect.forEach(Array.from({ length: 200 }), () => createMitra(), { concurrency: 10 })
      const ids = mitras.map((m) => m.id)
      const onA = Context.get(a, MitraStatus)
      const onB = Context.get(b, MitraStatus)
      yield* Effect.forEach(ids, (id) =>
        Effect.all([onA.setOnline(id, "test:a"), onB.setOffline(id, "test:b")], { concurrency: 2 }), {
        concurrency: pairsAtOnce
      }).pipe(Effect.orDie)

      const { heartbeats, mirror, postgres } = yield* views(ids).pipe(Effect.provide(a))
      expect(mirror).toEqual(postgres)
      for (const id of ids) expect(heartbeats[id] !== undefined).toBe(postgres[id]!.online)
    }).pipe(Effect.provide(TestInfrastructure()), Effect.orDie))

  it.scopedLive("going online (A) racing a deactivation (B): never online and deactivated, in Postgres or in the mirror", () =>
    Effect.gen(function*() {
      const keyPrefix = randomKeyPrefix()
      const [a, b] = [yield* instance(keyPrefix), yield* instance(keyPrefix)]
      const mitras = yield* Effect.forEach(Array.from({ length: 100 }), () => createMitra(), { concurrency: 10 })
      const ids = mitras.map((m) => m.id)
      const onA = Context.get(a, MitraStatus)
      const accountsOnB = Context.get(b, MitraAccounts)
      yield* Effect.forEach(ids, (id) =>
        Effect.all([
          // A deactivated mitra may not go online: 403, which is an answer, not a failure here.
          onA.setOnline(id, "test:a").pipe(Effect.catchTag("Forbidden", () => Effect.void)),
          accountsOnB.setActive(id, false, "test:b")
        ], { concurrency: 2 }), { concurrency: pairsAtOnce }).pipe(Effect.orDie)

      const { mirror, postgres } = yield* views(ids).pipe(Effect.provide(a))
      for (const id of ids) expect(postgres[id]).toEqual({ online: false, deactivated: true })
      expect(mirror).toEqual(postgres)
    }).pipe(Effect.provide(TestInfrastructure()), Effect.orDie))
})
