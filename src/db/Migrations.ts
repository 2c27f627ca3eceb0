/**
 * Schema migrations: plain SQL files `migrations/NNNN_name.sql`, applied in order by `PgMigrator`
 * (which records them in `effect_sql_migrations`).
 *
 * Instances starting together must apply each migration once and all start. PgMigrator locks its
 * table, but only after creating it, so on an empty database two runs could both try to create it
 * and the loser would fail start-up. So a run first takes a transaction-level advisory lock: one
 * instance migrates (inside that transaction, its own becoming a savepoint) while the others retry
 * the lock every 200 ms, then find nothing to do. Each try is one short statement, so a long
 * migration never holds another instance's statement past its timeout.
 */
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgMigrator } from "@effect/sql-pg"
import { Data, Effect, Layer, Schedule } from "effect"
import { readdir, readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"

/** `src/db` and `dist/db` both sit two levels below the project root. */
export const migrationsDirectory = fileURLToPath(new URL("../../migrations/", import.meta.url))

const fileName = /^(\d+)_([\w-]+)\.sql$/

/** Loads every SQL migration; each runs as one multi-statement query inside the migrator's transaction. */
export const sqlFileLoader = (directory: string): PgMigrator.Loader =>
  Effect.tryPromise({
    try: async () => {
      const files = (await readdir(directory)).flatMap((file) => {
        const match = fileName.exec(file)
        return match ? [{ file, id: Number(match[1]), name: match[2]! }] : []
      })
      return Promise.all(
        files.map(async ({ file, id, name }) => {
          const text = await readFile(`${directory}/${file}`, "utf8")
          const run = Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(text))
          // The migrator loads each migration first (like a module import), then runs what it loaded.
          return [id, name, Effect.succeed(run)] as const
        })
      )
    },
    catch: (cause) =>
      new PgMigrator.MigrationError({ reason: "import-error", message: `Cannot read migrations in ${directory}`, cause })
  })

class MigrationsBusy extends Data.TaggedError("MigrationsBusy") {}

/** `PgMigrator.run` while holding the migration lock, retried until the lock is ours. */
const underMigrationLock = <A, E, R>(migrate: Effect.Effect<A, E, R>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.gen(function*() {
      const [lock] = yield* sql<{ taken: boolean }>`
        SELECT pg_try_advisory_xact_lock(hashtext('mitra-availability:migrations')) AS taken
      `
      if (lock?.taken !== true) return yield* new MigrationsBusy()
      return yield* migrate
    })).pipe(Effect.retry({ while: (error) => error instanceof MigrationsBusy, schedule: Schedule.spaced("200 millis") })))

export const runMigrations = underMigrationLock(PgMigrator.run({ loader: sqlFileLoader(migrationsDirectory) })).pipe(
  Effect.tap((applied) =>
    applied.length === 0
      ? Effect.logInfo("Migrations: schema is up to date")
      : Effect.logInfo(`Migrations: applied ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`)
  ),
  Effect.provide(NodeContext.layer),
  Effect.withSpan("Migrations.run")
)

/** Applies pending migrations when the layer is built: the start-up order's first step. */
export const MigrationsLive = Layer.effectDiscard(runMigrations)
