/** The expected failures of control-center operations, each with the status the API answers. */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

export class SettingNotFound extends Schema.TaggedError<SettingNotFound>()(
  "SettingNotFound",
  { message: Schema.String, key: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class InvalidSettingValue extends Schema.TaggedError<InvalidSettingValue>()(
  "InvalidSettingValue",
  { message: Schema.String, key: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

export class RoleNotFound extends Schema.TaggedError<RoleNotFound>()(
  "RoleNotFound",
  { message: Schema.String, roleId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class DuplicateRoleName extends Schema.TaggedError<DuplicateRoleName>()(
  "DuplicateRoleName",
  { message: Schema.String, name: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export class CcUserNotFound extends Schema.TaggedError<CcUserNotFound>()(
  "CcUserNotFound",
  { message: Schema.String, userId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class DuplicateEmail extends Schema.TaggedError<DuplicateEmail>()(
  "DuplicateEmail",
  { message: Schema.String, email: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** A control-center user may not deactivate itself (it could lock the last administrator out). */
export class CannotDeactivateSelf extends Schema.TaggedError<CannotDeactivateSelf>()(
  "CannotDeactivateSelf",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/**
 * The change would leave no active control-center user holding every permission of the catalog
 * (demoting or deactivating the last super-admin): nobody could then grant anything back.
 */
export class LastSuperAdmin extends Schema.TaggedError<LastSuperAdmin>()(
  "LastSuperAdmin",
  { message: Schema.String, userId: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}
