/** `customers`: the statements about a customer, for its sign-in and its token's checks. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { repository } from "../db/Repository.js"

export class CustomersRepo extends Effect.Service<CustomersRepo>()("mitra/CustomersRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const insertAnonymous = SqlSchema.single({
      Request: Schema.NullOr(Schema.String),
      Result: Schema.Struct({ id: Schema.String }),
      execute: (displayName) =>
        sql`INSERT INTO customers (display_name, is_anonymous) VALUES (${displayName}, true) RETURNING id`
    })

    const findById = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ found: Schema.Literal(1) }),
      execute: (customerId) => sql`SELECT 1 AS found FROM customers WHERE id = ${customerId}`
    })

    return repository({
      /** A new anonymous customer (display name optional); its id. */
      insertAnonymous: (displayName: Option.Option<string>) =>
        insertAnonymous(Option.getOrNull(displayName)).pipe(
          Effect.map((row) => row.id),
          // INSERT … RETURNING always returns its row: none would be a bug here.
          Effect.catchTag("NoSuchElementException", Effect.die)
        ),

      /** Whether the customer exists. */
      exists: (customerId: string) => Effect.map(findById(customerId), Option.isSome)
    })
  })
}) {}
