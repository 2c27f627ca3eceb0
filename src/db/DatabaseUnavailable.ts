import { HttpApiSchema } from "@effect/platform"
import { Effect, Schema } from "effect"

/**
 * Postgres could not serve an operation that needs it (down, unreachable, timed out). The API
 * answers 503: the client may retry; it is never a 500.
 */
export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()(
  "DatabaseUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/**
 * Maps every remaining `SqlError` of an effect to `DatabaseUnavailable`, logging the cause. Use it
 * at a repository boundary after handling the SQL errors that mean something (unique violations…).
 */
export const orDatabaseUnavailable = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, { readonly _tag: "SqlError" }> | DatabaseUnavailable, R> =>
  Effect.catchIf(
    effect,
    (error): error is Extract<E, { readonly _tag: "SqlError" }> =>
      typeof error === "object" && error !== null && "_tag" in error && error._tag === "SqlError",
    (error) =>
      Effect.logError("Postgres operation failed", error).pipe(
        Effect.zipRight(new DatabaseUnavailable({ message: "The database is unavailable; try again shortly." }))
      )
  ) as Effect.Effect<A, Exclude<E, { readonly _tag: "SqlError" }> | DatabaseUnavailable, R>
