import { Schema } from "effect"

/**
 * A Valkey command failed: server down, connection not ready, timeout, or an error reply. Every
 * reader catches it and falls back to Postgres; every writer logs it and carries on.
 */
export class ValkeyError extends Schema.TaggedError<ValkeyError>()("ValkeyError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}
