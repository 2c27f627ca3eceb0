import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/**
 * Postgres could not serve an operation that needs it (down, unreachable, timed out). The API
 * answers 503: the client may retry; it is never a 500.
 */
export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()(
  "DatabaseUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}
