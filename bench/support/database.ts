/**
 * A database of the bench's own on the local Postgres (`BENCH_DATABASE_URL`, default
 * postgres://postgres@127.0.0.1:5432/postgres): created fresh, migrated by the built service's own
 * `dist/migrate.js`, dropped at the end whatever happens. A bench never writes into a database it
 * did not create.
 */
import { spawnSync } from "node:child_process"
import pg from "pg"
import { onCleanup } from "./cleanup.js"

export const adminUrl = process.env["BENCH_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** One statement on the admin database (CREATE / DROP DATABASE cannot run inside the bench database). */
export const admin = async (statement: string): Promise<void> => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

/** Runs a command in the checkout, its output shown; throws unless it exits 0. */
export const run = (what: string, command: string, args: ReadonlyArray<string>, options: { readonly cwd: string; readonly env?: Record<string, string> }) => {
  const result = spawnSync(command, args, { cwd: options.cwd, stdio: "inherit", ...(options.env === undefined ? {} : { env: options.env }) })
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status ?? result.signal})`)
}

/**
 * Creates `name` (dropping a leftover of the same name first), registers its drop, and migrates it
 * with `dist/migrate.js` (so `npm run build` must have run). Returns its URL.
 */
export const createBenchDatabase = async (options: { readonly name: string; readonly root: string }): Promise<string> => {
  const url = new URL(adminUrl)
  url.pathname = `/${options.name}`
  await admin(`DROP DATABASE IF EXISTS ${options.name} WITH (FORCE)`)
  await admin(`CREATE DATABASE ${options.name}`)
  onCleanup(`drop database ${options.name}`, () => admin(`DROP DATABASE IF EXISTS ${options.name} WITH (FORCE)`))
  run("migrations (node dist/migrate.js)", process.execPath, ["dist/migrate.js"], {
    cwd: options.root,
    env: { PATH: process.env["PATH"] ?? "", DATABASE_URL: url.toString(), LOG_LEVEL: "warn" }
  })
  return url.toString()
}
