/**
 * A control-center role: a name and the permissions it grants. Identity data, so it lives in auth
 * (the control center, a higher layer, manages roles; auth reads them on every request).
 */
import { Schema } from "effect"

/** `roles.permissions` as stored: `{resource: [action, ...]}` (written only through `PermissionsInput`). */
export const StoredPermissions = Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) })

export const Role = Schema.Struct({
  id: Schema.UUID,
  name: Schema.String,
  permissions: StoredPermissions,
  createdAt: Schema.Date
}).annotations({ identifier: "Role" })
export type Role = typeof Role.Type

/** A role as `CcUsersRepo` reads it (the driver gives a `Date`). */
export const RoleRow = Schema.Struct({ ...Role.fields, createdAt: Schema.DateFromSelf })
