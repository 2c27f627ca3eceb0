/**
 * A control-center user as the API shows it. Identity data, so it lives in auth (the control
 * center, a higher layer, manages users; auth signs them in and reads them on every request).
 */
import { Schema } from "effect"

export const CcUser = Schema.Struct({
  id: Schema.UUID,
  email: Schema.String,
  displayName: Schema.String,
  roleId: Schema.UUID,
  roleName: Schema.String,
  isActive: Schema.Boolean,
  createdAt: Schema.Date
}).annotations({ identifier: "CcUser" })
export type CcUser = typeof CcUser.Type

/** A user as `CcUsersRepo` reads it (the driver gives a `Date`). */
export const CcUserRow = Schema.Struct({ ...CcUser.fields, createdAt: Schema.DateFromSelf })
