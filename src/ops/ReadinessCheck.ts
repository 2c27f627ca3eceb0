/** What `/readyz` reports: Postgres must answer; Valkey is reported but never required. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { pingDatabase } from "../db/Database.js"
import { ValkeyConnection, type ValkeyState } from "../valkey/ValkeyConnection.js"

export type ReadinessReport =
  | { readonly postgres: "up"; readonly valkey: ValkeyState }
  | { readonly postgres: "down"; readonly valkey: ValkeyState }

export class ReadinessCheck extends Effect.Service<ReadinessCheck>()("mitra/ReadinessCheck", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const valkey = yield* ValkeyConnection

    const postgres = pingDatabase.pipe(
      Effect.provideService(SqlClient.SqlClient, sql),
      Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "timeout" as const }),
      Effect.as("up" as const),
      Effect.catchAll((error) =>
        Effect.logWarning("Readiness: Postgres is not answering", error).pipe(Effect.as("down" as const))
      )
    )

    const check = Effect.fn("ReadinessCheck.check")(function*() {
      const [pg, vk] = yield* Effect.all([postgres, valkey.state], { concurrency: 2 })
      return { postgres: pg, valkey: vk } as ReadinessReport
    })

    return { check }
  })
}) {}
