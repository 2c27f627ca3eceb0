/**
 * The typed runtime settings (`SettingKeys.ts`) over `app_config`. Reads go to Postgres each time
 * (eight rows), so a change made on one instance is seen by all at once; a value that somehow
 * fails its schema in the database falls back to its default and is logged.
 */
import { Effect } from "effect"
import { AppConfigRepo } from "./AppConfigRepo.js"
import { decodeSettingOrDefault, defaultSettings, isSettingKey, type SettingKey, type Settings } from "./SettingKeys.js"

export class AppSettings extends Effect.Service<AppSettings>()("mitra/AppSettings", {
  effect: Effect.gen(function*() {
    const repo = yield* AppConfigRepo

    /** Every setting, defaults filled in for missing rows. */
    const all = Effect.fn("AppSettings.all")(function*() {
      const settings: Record<string, unknown> = { ...defaultSettings }
      for (const row of yield* repo.all) {
        if (isSettingKey(row.key)) settings[row.key] = yield* decodeSettingOrDefault(row.key, row.value)
      }
      return settings as Settings
    })

    /** Writes an already-validated value (callers decode input with `SettingsSchema.fields[key]`). */
    const put = Effect.fn("AppSettings.put")(function*<K extends SettingKey>(key: K, value: Settings[K], actor: string) {
      yield* repo.put({ key, value, actor })
      return value
    })

    return { all, put }
  }),
  dependencies: [AppConfigRepo.Default]
}) {}
