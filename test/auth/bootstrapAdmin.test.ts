/**
 * The first control-center user at start-up: from the environment, generated in embedded mode
 * (printed once), or not at all — and never twice, even with instances starting together.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ConfigError, Effect, Either, Layer, Logger, Ref } from "effect"
import { AppConfig } from "../../src/config/AppConfig.js"
import { bootstrapAdmin, embeddedAdminEmail, superAdminRole } from "../../src/auth/BootstrapAdmin.js"
import { verifyPassword } from "../../src/auth/Passwords.js"
import { allPermissions } from "../../src/auth/PermissionCatalog.js"
import { formatConfigError } from "../../src/config/formatConfigError.js"
import { createCcUser } from "../support/fixtures.js"
import { get, post } from "../support/http.js"
import { TestApp } from "../support/TestApp.js"
import { readTestConfig } from "../support/TestConfig.js"
import { TestDatabaseLive } from "../support/TestDatabase.js"

/** Config as start-up reads it from `env`; no DATABASE_URL in `env` means embedded mode. */
const configFrom = (env: Record<string, string>) => Layer.effect(AppConfig, Effect.orDie(readTestConfig(env)))

const adminEnv = { BOOTSTRAP_ADMIN_EMAIL: "Root@Example.com", BOOTSTRAP_ADMIN_PASSWORD: "a-long-bootstrap-password" }
const production = { DATABASE_URL: "postgres://db.internal/mitra" }

/** Runs the bootstrap with `env`, returning what it logged. */
const runBootstrap = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const logs = yield* Ref.make<ReadonlyArray<{ level: string; message: string }>>([])
    const capture = Logger.make(({ logLevel, message }) => {
      const text = Array.isArray(message) ? message.join(" ") : String(message)
      Effect.runSync(Ref.update(logs, (all) => [...all, { level: logLevel.label, message: text }]))
    })
    yield* bootstrapAdmin.pipe(
      Effect.provide(configFrom(env)),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture))
    )
    return yield* Ref.get(logs)
  })

const users = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ email: string; passwordHash: string; roleName: string; permissions: unknown }>`
    SELECT u.email, u.password_hash, r.name AS role_name, r.permissions
    FROM control_center_users u JOIN roles r ON r.id = u.role_id
  `)

describe("BootstrapAdmin", () => {
  it.scopedLive("creates the super_admin role (every permission) and the user from BOOTSTRAP_ADMIN_*; once", () =>
    Effect.gen(function*() {
      yield* runBootstrap({ ...production, ...adminEnv })
      const [admin, ...others] = yield* users
      expect(others).toEqual([])
      expect(admin).toMatchObject({ email: "Root@Example.com", roleName: superAdminRole, permissions: allPermissions })
      expect(yield* verifyPassword(adminEnv.BOOTSTRAP_ADMIN_PASSWORD, admin!.passwordHash)).toBe(true)

      // A restart (or a changed password variable) leaves the existing user alone.
      yield* runBootstrap({ ...production, ...adminEnv, BOOTSTRAP_ADMIN_PASSWORD: "a-different-password" })
      expect(yield* users).toEqual([admin])
    }).pipe(Effect.provide(TestDatabaseLive)))

  it.scopedLive("embedded mode with neither variable: a generated password, printed once, that verifies", () =>
    Effect.gen(function*() {
      const first = yield* runBootstrap({})
      const announcement = first.find((log) => log.message.includes(embeddedAdminEmail))
      expect(announcement?.level).toBe("WARN")
      const password = /generated password (\S+)/.exec(announcement!.message)?.[1]
      expect(password).toBeDefined()
      const [admin] = yield* users
      expect(admin).toMatchObject({ email: embeddedAdminEmail, roleName: superAdminRole })
      expect(yield* verifyPassword(password!, admin!.passwordHash)).toBe(true)

      const second = yield* runBootstrap({})
      expect(second.some((log) => log.message.includes("password"))).toBe(false)
      expect(yield* users).toHaveLength(1)
    }).pipe(Effect.provide(TestDatabaseLive)))

  it.scopedLive("with a DATABASE_URL and neither variable: no user, an info line saying how", () =>
    Effect.gen(function*() {
      const logs = yield* runBootstrap(production)
      expect(yield* users).toEqual([])
      expect(logs).toContainEqual({ level: "INFO", message: expect.stringContaining("BOOTSTRAP_ADMIN_EMAIL") })
    }).pipe(Effect.provide(TestDatabaseLive)))

  it.scopedLive("an existing control-center user means nothing is created", () =>
    Effect.gen(function*() {
      const existing = yield* createCcUser()
      yield* runBootstrap({ ...production, ...adminEnv })
      expect((yield* users).map((u) => u.email)).toEqual([existing.email])
    }).pipe(Effect.provide(TestDatabaseLive)))

  it.scopedLive("instances starting together create exactly one user", () =>
    Effect.gen(function*() {
      yield* Effect.all(Array.from({ length: 4 }, () => runBootstrap({ ...production, ...adminEnv })), { concurrency: 4 })
      expect(yield* users).toHaveLength(1)
    }).pipe(Effect.provide(TestDatabaseLive)))

  it.scopedLive("only one of the variables, or a value the API would refuse, stops start-up naming the variable", () =>
    Effect.gen(function*() {
      const failure = (env: Record<string, string>) =>
        runBootstrap({ ...production, ...env }).pipe(
          Effect.either,
          Effect.map((result) => {
            if (Either.isRight(result) || !ConfigError.isConfigError(result.left)) throw new Error("expected a ConfigError")
            return formatConfigError(result.left)
          })
        )
      expect(yield* failure({ BOOTSTRAP_ADMIN_EMAIL: "root@example.com" })).toMatch(/BOOTSTRAP_ADMIN_PASSWORD/)
      expect(yield* failure({ BOOTSTRAP_ADMIN_PASSWORD: "a-long-bootstrap-password" })).toMatch(/BOOTSTRAP_ADMIN_EMAIL/)
      expect(yield* failure({ ...adminEnv, BOOTSTRAP_ADMIN_EMAIL: "not-an-email" })).toMatch(/BOOTSTRAP_ADMIN_EMAIL/)
      expect(yield* failure({ ...adminEnv, BOOTSTRAP_ADMIN_PASSWORD: "short" })).toMatch(/BOOTSTRAP_ADMIN_PASSWORD: .*8 characters/)
      expect(yield* failure({ ...adminEnv, BOOTSTRAP_ADMIN_PASSWORD: "short" })).not.toContain("short\"")
      expect(yield* users).toEqual([])
    }).pipe(Effect.provide(TestDatabaseLive)))

  it.scopedLive("runs at start-up: the app comes up with the bootstrap admin able to sign in and manage", () =>
    Effect.gen(function*() {
      const login = yield* post("/api/auth/cc/login", {
        json: { email: "root@example.com", password: adminEnv.BOOTSTRAP_ADMIN_PASSWORD }
      })
      expect(login.status).toBe(200)
      const token = (login.body as { accessToken: string }).accessToken
      for (const path of ["/internal/mitras", "/internal/config", "/internal/roles", "/internal/cc-users"]) {
        expect((yield* get(path, { token })).status, path).toBe(200)
      }
    }).pipe(Effect.provide(TestApp({ env: adminEnv }))))
})

