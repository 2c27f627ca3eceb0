/**
 * Schema migrations: plain SQL files `migrations/NNNN_name.sql`, applied in order by `PgMigrator`
 * (which records them in `effect_sql_migrations` and takes a lock, so concurrent instances
 * starting together apply each migration once).
 */
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgMigrator } from "@effect/sql-pg"
import { Effect, Layer } from "effect"
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

export const runMigrations = PgMigrator.run({ loader: sqlFileLoader(migrationsDirectory) }).pipe(
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
