/**
 * The Postgres pool, bounded in time. A database that stops answering — not refusing: stalled, as
 * behind a dead network path — must cost a request a 503 within seconds, never a hung request,
 * and must not leave the pool holding connections that will never answer again.
 *
 * - every statement has a deadline on both sides: `statement_timeout` on the server, and a client
 *   read timeout (`query_timeout`) a little longer, for when the server's answer never arrives;
 * - a connection whose statement timed out on the client is destroyed, not returned to the pool:
 *   its late answer would otherwise be read as the answer to the next statement;
 * - taking a connection from the pool (or opening one) has its own deadline;
 * - TCP keepalive, so the kernel notices a silent peer on idle connections too.
 */
import { SqlError } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Redacted, String } from "effect"
import pg from "pg"

/** How rows and statements are named: camelCase in code, snake_case in SQL. */
export const pgClientOptions = {
  applicationName: "mitra-availability",
  transformQueryNames: String.camelToSnake,
  transformResultNames: String.snakeToCamel,
  // JSON values (role permissions, config values) are data: their keys stay as written.
  transformJson: false
} as const

export interface PgPoolOptions {
  readonly url?: Redacted.Redacted<string>
  readonly host?: string
  readonly port?: number
  readonly username?: string
  readonly database?: string
  readonly maxConnections: number
  /** The longest one statement may run (the server cancels it) or go unanswered (the connection is dropped). */
  readonly queryTimeout: Duration.DurationInput
  /** The longest a request waits for a connection, pooled or new. */
  readonly connectTimeout: Duration.DurationInput
}

/** The client gives the server this long past its own deadline to report the cancellation. */
const clientGrace = Duration.millis(500)

const readTimeoutMessage = "Query read timeout"

/**
 * Makes a connection whose statement went unanswered unusable: pg reports the timeout to the
 * caller but keeps the connection, whose stream still owes the old answer. Destroying the stream
 * makes the pool drop the client.
 */
const dropOnReadTimeout = (client: pg.PoolClient) => {
  const query = client.query.bind(client) as (...args: Array<unknown>) => unknown
  ;(client as unknown as { query: (...args: Array<unknown>) => unknown }).query = (...args: Array<unknown>) => {
    const last = args.length - 1
    const callback = args[last]
    if (typeof callback === "function") {
      args[last] = (error: unknown, result: unknown) => {
        if (error instanceof Error && error.message === readTimeoutMessage) {
          ;(client as unknown as { connection?: { stream?: { destroy: () => void } } }).connection?.stream?.destroy()
        }
        return (callback as (error: unknown, result: unknown) => unknown)(error, result)
      }
    }
    return query(...args)
  }
}

export const makePgPool = (options: PgPoolOptions) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const statementMillis = Math.max(1, Math.round(Duration.toMillis(options.queryTimeout)))
      const pool = new pg.Pool({
        ...(options.url === undefined ? {} : { connectionString: Redacted.value(options.url) }),
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.port === undefined ? {} : { port: options.port }),
        ...(options.username === undefined ? {} : { user: options.username }),
        ...(options.database === undefined ? {} : { database: options.database }),
        max: options.maxConnections,
        application_name: pgClientOptions.applicationName,
        connectionTimeoutMillis: Math.round(Duration.toMillis(options.connectTimeout)),
        statement_timeout: statementMillis,
        query_timeout: statementMillis + Duration.toMillis(clientGrace),
        // A transaction left open by a client that vanished must not hold its locks for long.
        idle_in_transaction_session_timeout: statementMillis * 2,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000
      })
      pool.on("connect", dropOnReadTimeout)
      // Errors of idle clients (a dropped connection) remove them from the pool; nothing to report.
      pool.on("error", () => undefined)
      return pool
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeoutOption(1000), Effect.asVoid)
  )

/** `SqlClient` and `PgClient` on a bounded pool, with the service's naming transforms. */
export const pgClientLayer = (options: PgPoolOptions) =>
  PgClient.layerFromPool({
    acquire: makePgPool(options).pipe(
      // Fail start-up early (as PgClient.layer does) when the database cannot be reached at all.
      Effect.tap((pool) =>
        Effect.tryPromise({
          try: () => pool.query("SELECT 1"),
          catch: (cause) => new SqlError.SqlError({ cause, message: "PgClient: Failed to connect" })
        })
      )
    ),
    applicationName: pgClientOptions.applicationName,
    transformQueryNames: pgClientOptions.transformQueryNames,
    transformResultNames: pgClientOptions.transformResultNames,
    transformJson: pgClientOptions.transformJson
  })
