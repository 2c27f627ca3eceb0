/**
 * A mitra account as the control center shows it, and the position of a page of them. Read from
 * Postgres, the durable truth (`mitra_online_status`, live `chat_sessions`), not from the mirror.
 */
import { Schema } from "effect"
import { Uuid } from "../domain/Uuid.js"

/** A mitra as the control center shows it. */
export const Mitra = Schema.Struct({
  id: Schema.UUID,
  displayName: Schema.String,
  phone: Schema.String,
  isActive: Schema.Boolean,
  isOnline: Schema.Boolean,
  /** Sessions counting toward capacity: `active` and `pending_payment`. */
  liveSessions: Schema.Int,
  /** Null: the global default, `app_config.max_sessions_per_mitra`. */
  maxConcurrentSessions: Schema.NullOr(Schema.Int),
  /** As last written to Postgres (the heartbeat mirror copies Valkey's times periodically). */
  lastHeartbeatAt: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}).annotations({ identifier: "Mitra" })
export type Mitra = typeof Mitra.Type

/** A row as `MitrasRepo` reads it: the mitra and its keyset position. */
export const MitraRow = Schema.Struct({
  ...Mitra.fields,
  lastHeartbeatAt: Schema.NullOr(Schema.DateFromSelf),
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.DateFromSelf,
  /** Keyset position: `created_at` in whole microseconds since the epoch (exact, unlike a JS Date). */
  createdMicros: Schema.String
})

/**
 * An opaque page position: base64url of `["<created micros>", "<id>"]`. Anything else is a 400
 * at decoding, before it can reach a query.
 */
export const MitraCursor = Schema.compose(
  Schema.StringFromBase64Url,
  Schema.parseJson(Schema.Tuple(Schema.String.pipe(Schema.pattern(/^\d{1,17}$/)), Uuid))
).annotations({ identifier: "MitraCursor", message: () => "Expected a cursor returned by a previous page" })

export const maxPageSize = 100
export const defaultPageSize = 50
