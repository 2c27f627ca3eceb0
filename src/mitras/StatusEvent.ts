/**
 * One row of a mitra's audit history (`mitra_status_events`) as the control center reads it:
 * what changed, why, who did it, when. Paged newest first by the event's id.
 */
import { Schema } from "effect"

export const StatusEventName = Schema.Literal("online", "offline", "deactivated", "reactivated")
export type StatusEventName = typeof StatusEventName.Type
export const StatusEventReason = Schema.Literal("manual", "heartbeat_stale", "deactivated", "admin")
export type StatusEventReason = typeof StatusEventReason.Type

export class StatusEvent extends Schema.Class<StatusEvent>("StatusEvent")({
  event: StatusEventName,
  reason: StatusEventReason,
  /** `mitra:<id>`, a control-center user's id, or `system` (a sweep). */
  actor: Schema.NullOr(Schema.String),
  at: Schema.Date
}) {}

/** An opaque page position: base64url of the last event's id. */
export const StatusEventCursor = Schema.compose(
  Schema.StringFromBase64Url,
  Schema.NumberFromString.pipe(Schema.int(), Schema.positive())
).annotations({ identifier: "StatusEventCursor", message: () => "Expected a cursor returned by a previous page" })

export const statusEventPageSize = { default: 50, max: 200 } as const

export const StatusEventListParams = Schema.Struct({
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, statusEventPageSize.max)), { exact: true }),
  cursor: Schema.optionalWith(StatusEventCursor, { exact: true })
})
export type StatusEventListParams = typeof StatusEventListParams.Type

export const StatusEventPage = Schema.Struct({
  items: Schema.Array(StatusEvent),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: Schema.NullOr(Schema.String)
}).annotations({ identifier: "StatusEventPage" })
