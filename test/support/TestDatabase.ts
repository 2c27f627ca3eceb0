/**
 * An isolated Postgres database per test layer: cloned from the run's migrated template (fast),
 * dropped when the layer's scope closes. Files run in parallel without seeing each other's rows.
 */
import { Context, Duration, Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { pgClientLayer as servicePgClientLayer } from "../../src/db/PgPool.js"

export class TestDatabase extends Context.Tag("test/TestDatabase")<TestDatabase, { readonly name: string; readonly url: string }>() {}

export const databaseUrl = (database: string) => {
  const url = new URL(inject("adminDatabaseUrl"))
  url.pathname = `/${database}`
  return url.toString()
}

const adminQuery = (text: string) =>
  Effect.promise(async () => {
    const admin = new pg.Client({ connectionString: inject("adminDatabaseUrl") })
    await admin.connect()
    try {
      await admin.query(text)
    } finally {
      await admin.end()
    }
  })

/** A fresh database cloned from the template, dropped on release. */
export const cloneTemplateDatabase = Effect.acquireRelease(
  Effect.gen(function*() {
    const name = `${inject("cloneDatabasePrefix")}${Math.random().toString(36).slice(2, 10)}`
    yield* adminQuery(`CREATE DATABASE ${name} TEMPLATE ${inject("templateDatabase")}`)
    return { name, url: databaseUrl(name) }
  }),
  ({ name }) => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore)
)

/**
 * The service's own bounded pool (`src/db/PgPool.ts`) on `url`. Timeouts are the service's
 * defaults unless a test shortens them (a stalled-database test need not wait 5 s).
 */
export const pgClientLayer = (
  url: string,
  maxConnections = 5,
  timeouts: { readonly queryTimeout?: Duration.DurationInput; readonly connectTimeout?: Duration.DurationInput } = {}
) =>
  servicePgClientLayer({
    url: Redacted.make(url),
    maxConnections,
    queryTimeout: timeouts.queryTimeout ?? Duration.seconds(5),
    connectTimeout: timeouts.connectTimeout ?? Duration.seconds(3)
  })

/** `SqlClient` + `PgClient` on a database of its own, plus its name and URL. */
export const TestDatabaseLive = Layer.unwrapScoped(
  Effect.map(cloneTemplateDatabase, (database) =>
    Layer.merge(pgClientLayer(database.url), Layer.succeed(TestDatabase, database)))
)
