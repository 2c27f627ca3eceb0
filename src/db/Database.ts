/**
 * The Postgres client: the server named by `DATABASE_URL`, or the embedded PGlite database when
 * it is unset. Either way the rest of the code sees one `SqlClient` with camelCase rows.
 */
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Option, String } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { startEmbeddedPostgres } from "./EmbeddedPostgres.js"

/** Shared by every pool the service (and its tests) open. */
export const pgClientOptions = {
  applicationName: "mitra-availability",
  transformQueryNames: String.camelToSnake,
  transformResultNames: String.snakeToCamel,
  // JSON values (role permissions, config values) are data: their keys stay as written.
  transformJson: false,
  connectTimeout: Duration.seconds(5)
} as const

export const DatabaseLive = Layer.unwrapScoped(
  Effect.gen(function*() {
    const config = yield* AppConfig
    if (Option.isSome(config.database.url)) {
      yield* Effect.logInfo("Postgres: using DATABASE_URL")
      return PgClient.layer({ ...pgClientOptions, url: config.database.url.value, maxConnections: config.database.maxConnections })
    }
    const embedded = yield* startEmbeddedPostgres(config.database.embeddedDataDir)
    yield* Effect.logWarning(
      `EMBEDDED MODE: no DATABASE_URL set, running an embedded PGlite database in ${config.database.embeddedDataDir} ` +
        `(served on ${embedded.host}:${embedded.port}). For trying the service out only; production sets DATABASE_URL.`
    )
    return PgClient.layer({
      ...pgClientOptions,
      host: embedded.host,
      port: embedded.port,
      username: "postgres",
      database: "postgres",
      maxConnections: embedded.maxConnections
    })
  })
)
