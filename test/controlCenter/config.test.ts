/**
 * /internal/config through the HTTP API: every known key accepts what its schema allows and
 * refuses the rest with 400 and no change; an unknown key is 404 and writes nothing.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { layer } from "../support/layer.js"
import { Effect } from "effect"
import { defaultSettings, type SettingKey, settingKeys } from "../../src/settings/SettingKeys.js"
import { loginAsCcUser, resetAppConfig } from "../support/fixtures.js"
import { get, put } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"

/** For every key: values it must accept and values it must refuse. */
const cases: Record<SettingKey, { readonly valid: ReadonlyArray<unknown>; readonly invalid: ReadonlyArray<unknown> }> = {
  max_sessions_per_mitra: { valid: [1, 2, 100], invalid: [0, -1, 101, 1.5, "2", null, true, [], {}] },
  heartbeat_stale_seconds: { valid: [5, 90, 3600], invalid: [4, 0, 3601, 60.5, "60", null, false] },
  session_duration_minutes: { valid: [1, 45, 1440], invalid: [0, -30, 1441, 30.1, "30", null] },
  extension_minutes: { valid: [1, 20, 1440], invalid: [0, 1441, 15.5, "15", null] },
  max_extensions: { valid: [0, 5, 100], invalid: [-1, 101, 2.5, "3", null, true] },
  pairing_timeout_seconds: { valid: [5, 120, 3600], invalid: [4, 3601, 0, "60", null] },
  payment_required: { valid: [true, false], invalid: ["true", 1, 0, null, "yes", {}] },
  payment_timeout_seconds: { valid: [10, 600, 86_400], invalid: [9, 86_401, 300.5, "300", null] }
}

const storedValue = (key: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ value: unknown; updatedBy: string | null }>`SELECT value, updated_by FROM app_config WHERE key = ${key}`.pipe(
      Effect.map(([row]) => row),
      Effect.orDie
    ))

layer(TestApp(), { excludeTestServices: true })("/internal/config", (it) => {
  it.effect("GET returns every setting with its value", () =>
    Effect.gen(function*() {
      yield* resetAppConfig
      const admin = yield* loginAsCcUser()
      const response = yield* get("/internal/config", { token: admin.accessToken })
      expect(response.status).toBe(200)
      expect(response.body).toEqual(defaultSettings)
    }))

  it.effect("PUT accepts every valid value of every key, stores it with the operator's id, and GET shows it", () =>
    Effect.gen(function*() {
      const admin = yield* loginAsCcUser()
      for (const key of settingKeys) {
        for (const value of cases[key].valid) {
          const response = yield* put(`/internal/config/${key}`, { token: admin.accessToken, json: { value } })
          expect(response.status, `${key} = ${JSON.stringify(value)}`).toBe(200)
          expect(response.body).toEqual({ key, value })
          expect(yield* storedValue(key)).toEqual({ value, updatedBy: admin.user.id })
        }
        const all = (yield* get("/internal/config", { token: admin.accessToken })).body as Record<string, unknown>
        expect(all[key]).toEqual(cases[key].valid.at(-1))
      }
      yield* resetAppConfig
    }))

  it.effect("PUT refuses every invalid value of every key with 400 InvalidSettingValue, and the value stays", () =>
    Effect.gen(function*() {
      yield* resetAppConfig
      const admin = yield* loginAsCcUser()
      for (const key of settingKeys) {
        const before = yield* storedValue(key)
        for (const value of cases[key].invalid) {
          const response = yield* put(`/internal/config/${key}`, { token: admin.accessToken, json: { value } })
          expect(response.status, `${key} = ${JSON.stringify(value)}`).toBe(400)
          expect(response.body).toMatchObject({ _tag: "InvalidSettingValue", key })
          expect((response.body as { message: string }).message).toContain(key)
        }
        const missing = yield* put(`/internal/config/${key}`, { token: admin.accessToken, json: {} })
        expect(missing.status).toBe(400)
        expect(yield* storedValue(key)).toEqual(before)
      }
    }))

  it.effect("PUT on an unknown key → 404 SettingNotFound and no row; bodies that are not {value} → 400", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const admin = yield* loginAsCcUser()
      for (const key of ["no_such_setting", "MAX_SESSIONS_PER_MITRA", "__proto__", "constructor"]) {
        const response = yield* put(`/internal/config/${key}`, { token: admin.accessToken, json: { value: 1 } })
        expect(response, key).toMatchObject({ status: 404, body: { _tag: "SettingNotFound", key } })
      }
      expect(yield* sql`SELECT 1 FROM app_config`).toHaveLength(settingKeys.length)

      for (const json of [[], "5", 5, null]) {
        const response = yield* put("/internal/config/max_extensions", { token: admin.accessToken, json })
        expect(response.status, JSON.stringify(json)).toBe(400)
      }
      const malformed = yield* put("/internal/config/max_extensions", { token: admin.accessToken, rawJson: "{\"value\": " })
      expect(malformed).toMatchObject({ status: 400, body: { _tag: "BadRequest" } })
    }))
})
