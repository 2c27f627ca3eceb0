/**
 * The Postgres client: the server named by `DATABASE_URL`, or the embedded PGlite database when
 * it is unset. Either way the rest of the code sees one `SqlClient` with camelCase rows, on a pool
 * whose every statement and connection wait is bounded in time (`PgPool.ts`).
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { startEmbeddedPostgres } from "./EmbeddedPostgres.js"
import { pgClientLayer } from "./PgPool.js"

export const DatabaseLive = Layer.unwrapScoped(
  Effect.gen(function*() {
    const { database } = yield* AppConfig
    const timeouts = { queryTimeout: database.queryTimeout, connectTimeout: database.connectTimeout }
    if (Option.isSome(database.url)) {
      yield* Effect.logInfo("Postgres: using DATABASE_URL")
      return pgClientLayer({ url: database.url.value, maxConnections: database.maxConnections, ...timeouts })
    }
    const embedded = yield* startEmbeddedPostgres(database.embeddedDataDir)
    yield* Effect.logWarning(
      `EMBEDDED MODE: no DATABASE_URL set, running an embedded PGlite database in ${database.embeddedDataDir} ` +
        `(served on ${embedded.host}:${embedded.port}). For trying the service out only; production sets DATABASE_URL.`
    )
    return pgClientLayer({
      host: embedded.host,
      port: embedded.port,
      username: "postgres",
      database: "postgres",
      maxConnections: embedded.maxConnections,
      ...timeouts
    })
  })
)

/** One trivial statement: whether Postgres answers at all (the readiness probe asks this, bounded in time). */
export const pingDatabase = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(Effect.asVoid)
