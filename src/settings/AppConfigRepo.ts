/** `app_config`: the runtime settings as stored, one JSON value per key. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { repository } from "../db/Repository.js"

const StoredSetting = Schema.Struct({ key: Schema.String, value: Schema.Unknown })

/** A stored setting with when it was last written, as a version (epoch microseconds). */
const VersionedSetting = Schema.Struct({ key: Schema.String, value: Schema.Unknown, version: Schema.Number })

const SettingWrite = Schema.Struct({ key: Schema.String, value: Schema.Unknown, actor: Schema.String })

export class AppConfigRepo extends Effect.Service<AppConfigRepo>()("mitra/AppConfigRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    return repository({
      /** Every stored setting. */
      all: SqlSchema.findAll({
        Request: Schema.Void,
        Result: StoredSetting,
        execute: () => sql`SELECT key, value FROM app_config`
      })(undefined),

      /** The given settings with their versions (the availability mirror follows the newest value). */
      versioned: SqlSchema.findAll({
        Request: Schema.Array(Schema.String),
        Result: VersionedSetting,
        execute: (keys) => sql`
          SELECT key, value, floor(extract(epoch FROM updated_at) * 1000000)::float8 AS version
          FROM app_config WHERE key IN ${sql.in(keys)}
        `
      }),

      /** Writes a value (already validated by its setting's schema). */
      put: SqlSchema.void({
        Request: SettingWrite,
        execute: ({ actor, key, value }) => sql`
          INSERT INTO app_config (key, value, updated_at, updated_by)
          VALUES (${key}, ${JSON.stringify(value)}::jsonb, now(), ${actor})
          ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by
        `
      })
    })
  })
}) {}
