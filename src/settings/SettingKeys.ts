/**
 * The runtime settings operators tune from the control center (`app_config` rows), each with the
 * schema its value must satisfy. Defaults match migration 0002.
 */
import { Effect, Schema } from "effect"

const PositiveInt = Schema.Int.pipe(Schema.positive())
const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())

export const SettingsSchema = Schema.Struct({
  max_sessions_per_mitra: PositiveInt.pipe(Schema.lessThanOrEqualTo(100)),
  heartbeat_stale_seconds: PositiveInt.pipe(Schema.greaterThanOrEqualTo(5), Schema.lessThanOrEqualTo(3600)),
  session_duration_minutes: PositiveInt.pipe(Schema.lessThanOrEqualTo(24 * 60)),
  extension_minutes: PositiveInt.pipe(Schema.lessThanOrEqualTo(24 * 60)),
  max_extensions: NonNegativeInt.pipe(Schema.lessThanOrEqualTo(100)),
  pairing_timeout_seconds: PositiveInt.pipe(Schema.greaterThanOrEqualTo(5), Schema.lessThanOrEqualTo(3600)),
  payment_required: Schema.Boolean,
  payment_timeout_seconds: PositiveInt.pipe(Schema.greaterThanOrEqualTo(10), Schema.lessThanOrEqualTo(86_400))
})

export type Settings = typeof SettingsSchema.Type
export type SettingKey = keyof Settings

export const settingKeys = Object.keys(SettingsSchema.fields) as ReadonlyArray<SettingKey>

export const isSettingKey = (key: string): key is SettingKey => (settingKeys as ReadonlyArray<string>).includes(key)

export const defaultSettings: Settings = {
  max_sessions_per_mitra: 1,
  heartbeat_stale_seconds: 60,
  session_duration_minutes: 30,
  extension_minutes: 15,
  max_extensions: 3,
  pairing_timeout_seconds: 60,
  payment_required: false,
  payment_timeout_seconds: 300
}

/**
 * A stored value of `key`, decoded with its schema. A missing row is the default; a row that fails
 * its schema (written by hand, or under an older schema) is the default too, and is logged.
 */
export const decodeSettingOrDefault = <K extends SettingKey>(key: K, stored: unknown): Effect.Effect<Settings[K]> =>
  stored === undefined
    ? Effect.succeed(defaultSettings[key])
    : Schema.decodeUnknown(SettingsSchema.fields[key] as unknown as Schema.Schema<Settings[K]>)(stored).pipe(
      Effect.catchAll((error) =>
        Effect.logError(`app_config.${key} holds an invalid value; using the default`, error).pipe(
          Effect.as(defaultSettings[key])
        )
      )
    )
