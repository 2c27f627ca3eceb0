/** A mitra as its own app sees it (`GET /api/mitra/me`). */
import { Schema } from "effect"

export class MitraMe extends Schema.Class<MitraMe>("MitraMe")({
  id: Schema.UUID,
  displayName: Schema.String,
  phone: Schema.String,
  isActive: Schema.Boolean,
  isOnline: Schema.Boolean,
  /** Sessions holding capacity now (`active` + `pending_payment`). */
  liveSessions: Schema.NonNegativeInt,
  /** The mitra's own maximum, or the `max_sessions_per_mitra` setting when it has none. */
  maxConcurrentSessions: Schema.Int
}) {}
