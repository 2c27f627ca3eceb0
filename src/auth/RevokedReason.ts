/** Why a refresh session ended, as written to `auth_sessions.revoked_reason`. */
import { Schema } from "effect"

export const RevokedReason = Schema.Literal(
  "logout",
  "refresh_token_reused",
  "mitra_deactivated",
  "cc_user_deactivated",
  "password_changed",
  "subject_inactive"
)
export type RevokedReason = typeof RevokedReason.Type
