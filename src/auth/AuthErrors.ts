import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** Missing, malformed, expired or forged credentials. Deliberately says no more than that. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** Authenticated, but not allowed: a missing permission, or a deactivated mitra. */
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/** The 403 of every route and login of a deactivated mitra: one wording everywhere. */
export const mitraDeactivated = new Forbidden({ message: "This mitra account is deactivated" })

/** The 403 of a deactivated control-center user. */
export const ccUserDeactivated = new Forbidden({ message: "This control-center account is deactivated" })
