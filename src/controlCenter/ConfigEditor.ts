/**
 * Operator writes to the runtime settings: the key must be one of `SettingKeys` (else 404) and the
 * value must satisfy that key's schema (else 400); only then is `app_config` written.
 */
import { Effect, Schema } from "effect"
import { describeParseError } from "../http/BoundedErrors.js"
import { AppSettings } from "../settings/AppSettings.js"
import { isSettingKey, type SettingKey, type Settings, SettingsSchema } from "../settings/SettingKeys.js"
import { InvalidSettingValue, SettingNotFound } from "./ControlCenterErrors.js"

export class ConfigEditor extends Effect.Service<ConfigEditor>()("mitra/ConfigEditor", {
  effect: Effect.gen(function*() {
    const settings = yield* AppSettings

    const put = Effect.fn("ConfigEditor.put")(function*(key: string, value: unknown, actor: string) {
      yield* Effect.annotateCurrentSpan("setting.key", key)
      if (!isSettingKey(key)) return yield* new SettingNotFound({ message: `No setting named "${key}"`, key })
      const schema = SettingsSchema.fields[key] as unknown as Schema.Schema<Settings[SettingKey], unknown>
      const valid = yield* Schema.decodeUnknown(schema)(value).pipe(
        Effect.mapError((error) =>
          new InvalidSettingValue({
            message: `Invalid value for ${key}: ${describeParseError(error)}`,
            key
          })
        )
      )
      yield* settings.put(key, valid, actor)
      return { key, value: valid }
    })

    return { all: settings.all, put }
  }),
  dependencies: [AppSettings.Default]
}) {}
