/** The expected failures about a mitra account, each with the status the API answers. */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

export class MitraNotFound extends Schema.TaggedError<MitraNotFound>()(
  "MitraNotFound",
  { message: Schema.String, mitraId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class DuplicatePhone extends Schema.TaggedError<DuplicatePhone>()(
  "DuplicatePhone",
  { message: Schema.String, phone: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}
