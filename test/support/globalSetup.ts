/**
 * Once per test run: a template database migrated once (each test file clones it, so files run
 * in parallel on isolated databases), and a dedicated Valkey server (each file uses its own key
 * prefix on it).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import pg from "pg"
import type { TestProject } from "vitest/node"
import { pgClientOptions } from "../../src/db/PgPool.js"
import { runMigrations } from "../../src/db/Migrations.js"
import { startValkeyServer } from "./valkeyServer.js"

declare module "vitest" {
  export interface ProvidedContext {
    readonly adminDatabaseUrl: string
    readonly templateDatabase: string
    /** Prefix of every database a test file clones from the template in this run. */
    readonly cloneDatabasePrefix: string
    readonly valkeyUrl: string
  }
}

const withDatabase = (url: string) => {
  const parsed = new URL(url)
  return (database: string) => {
    parsed.pathname = `/${database}`
    return parsed.toString()
  }
}

export default async function setup(project: TestProject) {
  const adminDatabaseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
  // One template per run (pid in the name), so concurrent runs on one machine never collide.
  const templateDatabase = `mitra_test_template_${process.pid}`

  const admin = new pg.Client({ connectionString: adminDatabaseUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${templateDatabase}`)

  await Effect.runPromise(
    runMigrations.pipe(
      Effect.provide(PgClient.layer({ ...pgClientOptions, url: Redacted.make(withDatabase(adminDatabaseUrl)(templateDatabase)) })),
      Effect.scoped,
      Effect.withLogSpan("template-migrations")
    )
  )

  const ownValkey = process.env.TEST_VALKEY_URL === undefined ? await startValkeyServer() : undefined
  const valkeyUrl = process.env.TEST_VALKEY_URL ?? ownValkey!.url

  project.provide("adminDatabaseUrl", adminDatabaseUrl)
  project.provide("templateDatabase", templateDatabase)
  project.provide("cloneDatabasePrefix", `mitra_test_${process.pid}_`)
  project.provide("valkeyUrl", valkeyUrl)

  return async () => {
    await ownValkey?.stop("SIGTERM")
    // Databases cloned by files that crashed before their own cleanup go with the template.
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`mitra_test_${process.pid}_%`]
    )
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`)
    await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`)
    await admin.end()
  }
}
