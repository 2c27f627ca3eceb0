/**
 * The first control-center user, created at start-up while none exists: without one, nobody could
 * sign in to create the others. Which user, from which variables: docs/auth.md ("The first
 * control-center user"). Instances starting together serialise on an advisory lock, so exactly one
 * creates it; a Postgres failure stops start-up.
 */
import { ConfigError, Effect, Layer, Option, ParseResult, Redacted, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { AppConfig, isEmbeddedDatabase } from "../config/AppConfig.js"
import { Transactions } from "../db/Repository.js"
import { CcUsersRepo } from "./CcUsersRepo.js"
import { Email, NewPassword } from "./Credentials.js"
import { hashPassword } from "./Passwords.js"
import { allPermissions } from "./PermissionCatalog.js"

export const superAdminRole = "super_admin"
export const embeddedAdminEmail = "admin@mitra.local"

const validated = <A>(schema: Schema.Schema<A, string>, name: string, value: string) =>
  Schema.decodeUnknown(schema)(value).pipe(
    Effect.mapError((error) => ConfigError.InvalidData([name], ParseResult.TreeFormatter.formatErrorSync(error)))
  )

/** Which credentials to bootstrap with, from the environment; none when there is nothing to do. */
const bootstrapCredentials = Effect.gen(function*() {
  const config = yield* AppConfig
  const { bootstrapAdminEmail: email, bootstrapAdminPassword: password } = config.auth
  if (Option.isSome(email) && Option.isSome(password)) {
    return Option.some({
      email: yield* validated(Email, "BOOTSTRAP_ADMIN_EMAIL", email.value),
      password: yield* validated(NewPassword, "BOOTSTRAP_ADMIN_PASSWORD", Redacted.value(password.value)),
      generated: false
    })
  }
  if (Option.isSome(email) || Option.isSome(password)) {
    const missing = Option.isNone(email) ? "BOOTSTRAP_ADMIN_EMAIL" : "BOOTSTRAP_ADMIN_PASSWORD"
    return yield* Effect.fail(ConfigError.MissingData(
      [missing],
      "Expected BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD to be set together"
    ))
  }
  return isEmbeddedDatabase(config)
    ? Option.some({ email: embeddedAdminEmail, password: randomBytes(18).toString("base64url"), generated: true })
    : Option.none()
})

/** The bootstrap itself, over the repository (provided by `BootstrapAdminLive`, or by `bootstrapAdmin`). */
const run = Effect.gen(function*() {
  const users = yield* CcUsersRepo
  const transactions = yield* Transactions
  const credentials = yield* bootstrapCredentials
  if (yield* users.anyUser) return
  if (Option.isNone(credentials)) {
    return yield* Effect.logInfo(
      "No control-center user exists. Set BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD to create the first one at start-up."
    )
  }
  const { email, generated, password } = credentials.value
  // Hashed before the transaction: the KDF's ~0.1 s should not hold a connection and a lock.
  const passwordHash = yield* hashPassword(password)
  const created = yield* transactions.run(Effect.gen(function*() {
    yield* users.lockBootstrap
    if (yield* users.anyUser) return false
    const roleId = yield* users.upsertRole({ name: superAdminRole, permissions: allPermissions })
    // No user exists (checked under the lock), so the email cannot be taken.
    const inserted = yield* users.insertUser({ email, displayName: "Administrator", roleId, passwordHash })
    return Option.isSome(inserted)
  }))
  if (!created) return
  if (generated) {
    yield* Effect.logWarning(
      `EMBEDDED MODE: created control-center user ${email} with the generated password ${password} ` +
        "(shown only now; set BOOTSTRAP_ADMIN_EMAIL/BOOTSTRAP_ADMIN_PASSWORD to choose them instead)"
    )
  } else {
    yield* Effect.logInfo(`Created the first control-center user ${email} (role ${superAdminRole})`)
  }
}).pipe(Effect.withSpan("BootstrapAdmin.run"))

const dependencies = Layer.merge(CcUsersRepo.Default, Transactions.Default)

/** One bootstrap on its own (tests); needs only `SqlClient` and `AppConfig`. */
export const bootstrapAdmin = Effect.provide(run, dependencies)

/** Runs at start-up, after migrations (see `StartupLive`). */
export const BootstrapAdminLive = Layer.effectDiscard(run).pipe(Layer.provide(dependencies))
