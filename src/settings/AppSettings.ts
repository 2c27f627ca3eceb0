/**
 * Reads and writes the typed runtime settings in `app_config`. Reads go to Postgres each time
 * (one indexed row or eight), so a change made on one instance is seen by all at once; a value
 * that somehow fails its schema in the database falls back to its default and is logged.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { orDatabaseUnavailable } from "../db/DatabaseUnavailable.js"
import { decodeSettingOrDefault, defaultSettings, type SettingKey, type Settings, SettingsSchema } from "./SettingKeys.js"

export class AppSettings extends Effect.Service<AppSettings>()("mitra/AppSettings", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Every setting, defaults filled in for missing rows. */
    const all = Effect.fn("AppSettings.all")(function*() {
      const rows = yield* orDatabaseUnavailable(sql<{ key: string; value: unknown }>`SELECT key, value FROM app_config`)
      const settings: Record<string, unknown> = { ...defaultSettings }
      for (const row of rows) {
        if (row.key in SettingsSchema.fields) settings[row.key] = yield* decodeSettingOrDefault(row.key as SettingKey, row.value)
      }
      return settings as Settings
    })

    /** Writes an already-validated value (callers decode input with `SettingsSchema.fields[key]`). */
    const put = Effect.fn("AppSettings.put")(function*<K extends SettingKey>(key: K, value: Settings[K], actor: string) {
      yield* orDatabaseUnavailable(sql`
        INSERT INTO app_config (key, value, updated_at, updated_by)
        VALUES (${key}, ${JSON.stringify(value)}::jsonb, now(), ${actor})
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by
      `)
      return value
    })

    return { all, put }
  })
}) {}
