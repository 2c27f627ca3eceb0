import { describe, expect, it } from "@effect/vitest"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { PgMigrator } from "@effect/sql-pg"
import { Cause, Effect, Exit, Option } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { readdirSync } from "node:fs"
import { migrationsDirectory, runMigrations, sqlFileLoader } from "../../src/db/Migrations.js"
import { databaseUrl, pgClientLayer } from "../support/TestDatabase.js"

/** Every migration file's id, in order: what a fresh database must end up with. */
const migrationIds = readdirSync(migrationsDirectory)
  .flatMap((file) => /^(\d+)_[\w-]+\.sql$/.exec(file)?.[1] ?? [])
  .map(Number)
  .sort((a, b) => a - b)

/** A brand-new, empty database (not the migrated template), dropped afterwards. */
const emptyDatabase = Effect.acquireRelease(
  Effect.promise(async () => {
    const name = `${inject("cloneDatabasePrefix")}empty_${Math.random().toString(36).slice(2, 8)}`
    const admin = new pg.Client({ connectionString: inject("adminDatabaseUrl") })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    return name
  }),
  (name) =>
    Effect.promise(async () => {
      const admin = new pg.Client({ connectionString: inject("adminDatabaseUrl") })
      await admin.connect()
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    })
)

const tables = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ tableName: string }>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name
  `.pipe(Effect.map((rows) => rows.map((row) => row.tableName))))

/** Every migration id recorded as applied, in order (a repeat would show twice). */
const recordedMigrations = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ migrationId: number }>`SELECT migration_id FROM effect_sql_migrations ORDER BY migration_id`.pipe(
    Effect.map((rows) => rows.map((row) => row.migrationId))
  ))

/** The service's migrations without the newest: what the previous release applied. */
const previousRelease = Effect.map(sqlFileLoader(migrationsDirectory), (all) => all.filter(([id]) => id < migrationIds.at(-1)!))

const nothingToDo = "found nothing to do"
const lostTableRace = "failed creating the migrations table another run created"

/**
 * Whether `cause` is PgMigrator's table creation colliding with another run's: Postgres says the
 * relation exists (42P07), or its row type does (23505 on pg_type), for `effect_sql_migrations`.
 */
const isTableCreationRace = (cause: Cause.Cause<unknown>) =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => false,
    onSome: (error) => {
      if (!(error instanceof SqlError)) return false
      const pgError = error.cause as { code?: string; message?: string; detail?: string } | undefined
      return (pgError?.code === "42P07" || pgError?.code === "23505") &&
        `${pgError.message} ${pgError.detail}`.includes("effect_sql_migrations")
    }
  })

/** One instance starting: its own pool, the service's migration run, and how the run ended. */
const startingInstance = (url: string) =>
  runMigrations.pipe(
    Effect.provide(pgClientLayer(url, 2)),
    Effect.exit,
    Effect.map((exit) =>
      Exit.isSuccess(exit)
        ? exit.value.length === 0 ? nothingToDo : `applied ${exit.value.map(([id]) => id).join(",")}`
        : isTableCreationRace(exit.cause)
        ? lostTableRace
        : `failed: ${Cause.pretty(exit.cause)}`
    )
  )

describe("migrations", () => {
  it.scoped("apply to an empty database, create every table and seed the config defaults", () =>
    Effect.gen(function*() {
      const name = yield* emptyDatabase
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        expect(yield* tables).toEqual([])

        const applied = yield* runMigrations
        expect(applied.map(([id]) => id)).toEqual(migrationIds)
        expect(migrationIds.slice(0, 3)).toEqual([1, 2, 3])
        expect(yield* tables).toEqual(expect.arrayContaining([
          "app_config", "auth_session_rotated_tokens", "auth_sessions", "chat_sessions", "control_center_users", "customers",
          "effect_sql_migrations", "mitra_online_status", "mitra_status_events", "mitras", "roles"
        ]))
        const config = yield* sql<{ key: string; value: unknown }>`SELECT key, value FROM app_config ORDER BY key`
        expect(Object.fromEntries(config.map((row) => [row.key, row.value]))).toEqual({
          extension_minutes: 15,
          heartbeat_stale_seconds: 60,
          max_extensions: 3,
          max_sessions_per_mitra: 1,
          pairing_timeout_seconds: 60,
          payment_required: false,
          payment_timeout_seconds: 300,
          session_duration_minutes: 30
        })
      }).pipe(Effect.provide(pgClientLayer(databaseUrl(name), 2)))
    }))

  it.scoped("are idempotent: a second run applies nothing and keeps operators' config values", () =>
    Effect.gen(function*() {
      const name = yield* emptyDatabase
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* runMigrations
        yield* sql`UPDATE app_config SET value = '5'::jsonb WHERE key = 'max_sessions_per_mitra'`
        const before = yield* tables

        const second = yield* runMigrations
        expect(second).toEqual([])
        expect(yield* tables).toEqual(before)
        const [row] = yield* sql<{ value: unknown }>`SELECT value FROM app_config WHERE key = 'max_sessions_per_mitra'`
        expect(row?.value).toBe(5)
      }).pipe(Effect.provide(pgClientLayer(databaseUrl(name), 2)))
    }))

  it.scopedLive("concurrent runs on a migrated database (a release adding a migration): every run succeeds, exactly one applies it", () =>
    Effect.gen(function*() {
      const url = databaseUrl(yield* emptyDatabase)
      // The database as the previous release left it: every migration but the newest applied.
      yield* PgMigrator.run({ loader: previousRelease }).pipe(Effect.provide(NodeContext.layer), Effect.provide(pgClientLayer(url, 1)))
      expect(yield* recordedMigrations.pipe(Effect.provide(pgClientLayer(url, 1)))).toEqual(migrationIds.slice(0, -1))

      // The migrator locks its table inside its transaction: the first run applies the newest
      // migration, the others wait, then find nothing to do. (Applying it twice would fail:
      // its ALTER TABLE … ADD COLUMN cannot run twice.)
      const outcomes = yield* Effect.all([startingInstance(url), startingInstance(url), startingInstance(url)], { concurrency: "unbounded" })
      expect([...outcomes].sort()).toEqual([`applied ${migrationIds.at(-1)}`, nothingToDo, nothingToDo])
      expect(yield* recordedMigrations.pipe(Effect.provide(pgClientLayer(url, 1)))).toEqual(migrationIds)
    }))

  it.scopedLive("concurrent runs on an empty database (a new install): every run succeeds, exactly one applies every migration", () =>
    Effect.gen(function*() {
      const url = databaseUrl(yield* emptyDatabase)
      const outcomes = yield* Effect.all([startingInstance(url), startingInstance(url), startingInstance(url)], { concurrency: "unbounded" })
      // PgMigrator creates its own table before it takes its lock, so on an empty database runs
      // starting together would collide there and the losers fail start-up; the service's
      // migration lock (src/db/Migrations.ts) makes them wait and find nothing to do instead.
      expect([...outcomes].sort()).toEqual([`applied ${migrationIds.join(",")}`, nothingToDo, nothingToDo])
      expect(yield* recordedMigrations.pipe(Effect.provide(pgClientLayer(url, 1)))).toEqual(migrationIds)
      expect(yield* tables.pipe(Effect.provide(pgClientLayer(url, 1)))).toContain("mitra_online_status")
    }))

  it.scoped("0004 makes role names unique ignoring case, renaming existing collisions (super_admin keeps its name, users keep their roles)", () =>
    Effect.gen(function*() {
      const name = yield* emptyDatabase
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const upTo = (last: number) =>
          PgMigrator.run({ loader: Effect.map(sqlFileLoader(migrationsDirectory), (all) => all.filter(([id]) => id <= last)) }).pipe(
            Effect.provide(NodeContext.layer)
          )
        yield* upTo(3)
        // Data written before 0004: case variants, the bootstrap role not the oldest of its group.
        const roles = yield* Effect.forEach(
          [
            ["Super_Admin", 3], ["super_admin", 2], ["SUPER_ADMIN", 1], ["ops", 2], ["OPS", 0],
            ["x".repeat(64), 1], ["X".repeat(64), 0], ["alone", 0]
          ] as const,
          ([roleName, daysAgo]) =>
            sql<{ id: string; name: string }>`
              INSERT INTO roles (name, created_at) VALUES (${roleName}, now() - ${daysAgo} * interval '1 day') RETURNING id, name
            `.pipe(Effect.map(([row]) => row!))
        )
        for (const role of roles) {
          yield* sql`
            INSERT INTO control_center_users (email, display_name, role_id, password_hash)
            VALUES (${`${role.id}@example.com`}, 'U', ${role.id}, 'unusable')
          `
        }
        yield* runMigrations

        const after = yield* sql<{ id: string; name: string }>`SELECT id, name FROM roles`
        const renamed = (original: string) => after.find((r) => r.id === roles.find((role) => role.name === original)!.id)!.name
        expect(renamed("super_admin")).toBe("super_admin")
        expect(renamed("ops")).toBe("ops")
        expect(renamed("alone")).toBe("alone")
        expect(renamed("x".repeat(64))).toBe("x".repeat(64))
        for (const original of ["Super_Admin", "SUPER_ADMIN", "OPS", "X".repeat(64)]) {
          const id = roles.find((role) => role.name === original)!.id
          expect(renamed(original)).toBe(`${original.slice(0, 27)}-${id}`)
          expect(renamed(original).length).toBeLessThanOrEqual(64)
        }
        expect(new Set(after.map((r) => r.name.toLowerCase())).size).toBe(after.length)
        const users = yield* sql<{ email: string; roleId: string }>`SELECT email, role_id FROM control_center_users`
        for (const user of users) expect(user.email).toBe(`${user.roleId}@example.com`)

        const variant = yield* sql`INSERT INTO roles (name) VALUES ('Ops')`.pipe(Effect.flip)
        expect(String(variant.cause)).toContain("roles_name_lower_idx")
      }).pipe(Effect.provide(pgClientLayer(databaseUrl(name), 2)))
    }))
})
