/**
 * Schema migrations: plain SQL files `migrations/NNNN_name.sql`, applied in order by `PgMigrator`
 * (which records them in `effect_sql_migrations`).
 *
 * Instances starting together must apply each migration once and all start. PgMigrator locks its
 * table, but only after creating it, so on an empty database two runs could both try to create it
 * and the loser would fail start-up. So a run first takes an advisory lock: one instance migrates
 * while the others try the lock every 200 ms, then find nothing to do. Each try is one short
 * statement, so a long migration never holds another instance's statement past its timeout.
 */
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgMigrator } from "@effect/sql-pg"
import { Data, Effect, Layer, Schedule } from "effect"
import { AppConfig, isEmbeddedDatabase } from "../config/AppConfig.js"
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

const lockKey = "hashtext('mitra-availability:migrations')"

/**
 * `migrate` while this process holds the migration lock: a session-level advisory lock on a
 * connection reserved for it (the migrator's own statements run on the pool), tried every 200 ms
 * until it is ours, released when `migrate` ends — or with the session, if the process dies.
 */
const underMigrationLock = <A, E, R>(migrate: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const connection = yield* sql.reserve
    const tryLock = connection.execute(`SELECT pg_try_advisory_lock(${lockKey}) AS taken`, [], undefined).pipe(
      Effect.flatMap((rows) => (rows[0] as { taken?: boolean } | undefined)?.taken === true ? Effect.void : new MigrationsBusy())
    )
    yield* tryLock.pipe(Effect.retry({ while: (error) => error instanceof MigrationsBusy, schedule: Schedule.spaced("200 millis") }))
    return yield* migrate.pipe(
      Effect.ensuring(connection.execute(`SELECT pg_advisory_unlock(${lockKey})`, [], undefined).pipe(Effect.ignore))
    )
  }))

const report = <E, R>(run: Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, E, R>) =>
  run.pipe(
    Effect.tap((applied) =>
      applied.length === 0
        ? Effect.logInfo("Migrations: schema is up to date")
        : Effect.logInfo(`Migrations: applied ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`)
    ),
    Effect.provide(NodeContext.layer),
    Effect.withSpan("Migrations.run")
  )

const migrator = PgMigrator.run({ loader: sqlFileLoader(migrationsDirectory) })

/** Applies pending migrations, one instance at a time however many start together. */
export const runMigrations = report(underMigrationLock(migrator))

/**
 * The embedded database has one connection and one instance: the lock's reserved connection
 * would leave none for the migrator, and there is nobody to wait for.
 */
const runMigrationsAlone = report(migrator)

/** The run start-up and `npm run migrate` do: locked on a server, alone in embedded mode. */
export const migrateConfiguredDatabase = Effect.flatMap(AppConfig, (config) =>
  isEmbeddedDatabase(config) ? runMigrationsAlone : runMigrations)

/** Applies pending migrations when the layer is built: the start-up order's first step. */
export const MigrationsLive = Layer.effectDiscard(migrateConfiguredDatabase)
