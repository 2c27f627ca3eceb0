import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createCcUser, createCustomer, createMitra, resetDb } from "../support/fixtures.js"
import { TestDatabaseLive } from "../support/TestDatabase.js"

describe("test fixtures", () => {
  it.scopedLive("write the rows they describe, and resetDb empties them", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const customer = yield* createCustomer()
      const online = yield* createMitra({ isOnline: true })
      const inactive = yield* createMitra({ isActive: false })
      const cc = yield* createCcUser({ permissions: { mitra: ["read"] } })

      const mitras = yield* sql<{ id: string; isActive: boolean; isOnline: boolean | null }>`
        SELECT m.id, m.is_active, s.is_online FROM mitras m LEFT JOIN mitra_online_status s ON s.mitra_id = m.id
      `
      expect(mitras).toHaveLength(2)
      expect(mitras.find((m) => m.id === online.id)).toMatchObject({ isActive: true, isOnline: true })
      expect(mitras.find((m) => m.id === inactive.id)).toMatchObject({ isActive: false, isOnline: null })
      const [role] = yield* sql<{ permissions: unknown }>`SELECT permissions FROM roles WHERE id = ${cc.roleId}`
      expect(role?.permissions).toEqual({ mitra: ["read"] })
      expect((yield* sql`SELECT 1 FROM customers WHERE id = ${customer.id}`)).toHaveLength(1)

      yield* resetDb
      for (const table of ["mitras", "customers", "roles", "control_center_users"]) {
        expect(yield* sql`SELECT 1 FROM ${sql(table)}`).toHaveLength(0)
      }
      expect(yield* sql`SELECT 1 FROM app_config`).toHaveLength(8)
    }).pipe(Effect.provide(TestDatabaseLive)))
})
